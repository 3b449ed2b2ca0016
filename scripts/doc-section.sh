# shellcheck shell=bash
# Sourced by the bench scripts. write_doc_section FILE TITLE BEGIN END CONTENT
# replaces the lines between the marker lines BEGIN and END of FILE with the
# file CONTENT; without the markers it appends "## TITLE", the markers and
# CONTENT to FILE (creating it).
write_doc_section() {
  local doc=$1 title=$2 begin=$3 end=$4 content=$5 tmp
  tmp=$(mktemp "${doc}.XXXXXX")
  if [[ -f $doc ]] && grep -qF -- "$begin" "$doc" && grep -qF -- "$end" "$doc"; then
    awk -v b="$begin" -v e="$end" -v res="$content" '
      $0 == b { print; while ((getline l < res) > 0) print l; skip = 1; next }
      $0 == e { skip = 0 }
      !skip' "$doc" >"$tmp"
  else
    { [[ ! -f $doc ]] || cat "$doc"; printf '\n## %s\n\n%s\n' "$title" "$begin"; cat "$content"; echo "$end"; } >"$tmp"
  fi
  mv "$tmp" "$doc"
}
