package backup

import (
	"net/url"
	"slices"
	"strings"
)

// libpqKeys are the connection settings libpq (and so pg_dump) accepts; a
// connection string for pgx may carry others (pool_max_conns,
// statement_timeout) that libpq refuses.
var libpqKeys = []string{
	"host", "hostaddr", "port", "dbname", "user", "passfile", "channel_binding", "connect_timeout",
	"client_encoding", "options", "application_name", "fallback_application_name", "keepalives",
	"keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout", "sslmode",
	"sslcompression", "sslcert", "sslkey", "sslpassword", "sslrootcert", "sslcrl", "sslcrldir", "sslsni",
	"requirepeer", "ssl_min_protocol_version", "ssl_max_protocol_version", "gssencmode", "krbsrvname",
	"gsslib", "gssdelegation", "service", "target_session_attrs", "load_balance_hosts", "sslnegotiation",
}

// SplitPassword returns a connection string without its password, and the
// password, so the password can travel in PGPASSWORD. Settings that only
// pgx knows (pool_*, statement_timeout) are dropped: libpq refuses them.
func SplitPassword(conn string) (string, string) {
	if conn == "" {
		return "", ""
	}
	if u, err := url.Parse(conn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		password, _ := u.User.Password()
		if u.User != nil {
			u.User = url.User(u.User.Username())
		}
		q := u.Query()
		if p := q.Get("password"); p != "" {
			password = p
		}
		for k := range q {
			if !slices.Contains(libpqKeys, k) {
				q.Del(k)
			}
		}
		u.RawQuery = q.Encode()
		return u.String(), password
	}
	var kept []string
	password := ""
	for _, f := range strings.Fields(conn) {
		k, v, ok := strings.Cut(f, "=")
		switch {
		case !ok:
			kept = append(kept, f)
		case k == "password":
			password = strings.Trim(v, "'")
		case slices.Contains(libpqKeys, k):
			kept = append(kept, f)
		}
	}
	return strings.Join(kept, " "), password
}
