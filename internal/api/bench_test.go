package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/cortexlayer/cortexctl/db/fixture"
	"github.com/cortexlayer/cortexctl/internal/api"
)

// BenchmarkPostUsage is the hot path in process: the handler and the real
// database, without HTTP's sockets (scripts/bench-api.sh measures those).
func BenchmarkPostUsage(b *testing.B) {
	f := fixture.New(b)
	key := f.APIKey(f.Client("starter"))
	srv := api.New(api.Config{Log: zerolog.Nop(), Version: "bench"}, api.Deps{DB: f.DB.Pool})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", "/v1/usage", strings.NewReader(`{"operation_type":"query"}`))
			req.Header.Set("Authorization", "Bearer "+key)
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, req)
			if w.Code != http.StatusCreated {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}
