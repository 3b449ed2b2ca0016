package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// decode reads the request's JSON body into dst: one value, no unknown
// field, at most MaxBody bytes. Anything else is a 400 (413 for a body too
// large) that says what was wrong.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, dst any) error {
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeProblem(err, s.cfg.MaxBody)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return decodeProblem(err, s.cfg.MaxBody)
		}
		return problem(http.StatusBadRequest, CodeInvalidJSON, "the body holds more than one JSON value: send one object")
	}
	return nil
}

// readBody reads a raw body of at most MaxBody bytes (the webhook's, whose
// signature covers its exact bytes).
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		return nil, decodeProblem(err, s.cfg.MaxBody)
	}
	return b, nil
}

func decodeProblem(err error, limit int64) *Problem {
	var (
		tooLarge *http.MaxBytesError
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
		parse    *time.ParseError
	)
	switch {
	case errors.As(err, &tooLarge):
		return problem(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
			fmt.Sprintf("the body is larger than %d bytes: send at most 1000 events per request", limit))
	case errors.Is(err, io.EOF):
		return problem(http.StatusBadRequest, CodeInvalidJSON, "the body is empty: send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem(http.StatusBadRequest, CodeInvalidJSON, "the body ends in the middle of a JSON value")
	case errors.As(err, &syntax):
		return problem(http.StatusBadRequest, CodeInvalidJSON, fmt.Sprintf("malformed JSON at byte %d: %v", syntax.Offset, syntax))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return problem(http.StatusBadRequest, CodeInvalidJSON, fmt.Sprintf("the body is a JSON %s: send a JSON object", typ.Value))
		}
		return problem(http.StatusBadRequest, CodeInvalidRequest, fmt.Sprintf("%s: a JSON %s cannot be a %s", field, typ.Value, jsonType(typ.Type.String())))
	case errors.As(err, &parse):
		return problem(http.StatusBadRequest, CodeInvalidRequest,
			fmt.Sprintf("%q is not an RFC 3339 timestamp: write instants like 2026-11-27T10:00:00Z", parse.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return problem(http.StatusBadRequest, CodeInvalidRequest, "unknown field "+strings.TrimPrefix(err.Error(), "json: unknown field ")+": see docs/api.md for the fields")
	}
	return problem(http.StatusBadRequest, CodeInvalidJSON, "malformed JSON: "+err.Error())
}

// jsonType names a Go type as the JSON it is read from.
func jsonType(goType string) string {
	switch {
	case strings.Contains(goType, "int"):
		return "whole number"
	case strings.Contains(goType, "Time"):
		return "timestamp string"
	case strings.Contains(goType, "string"):
		return "string"
	case strings.HasPrefix(goType, "[]"):
		return "list"
	}
	return "JSON " + goType
}
