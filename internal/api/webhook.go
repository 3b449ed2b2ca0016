package api

import "net/http"

// routeWebhooks registers POST /webhooks/stripe.
func (s *Server) routeWebhooks(mux *http.ServeMux) {}
