package delivery_test

import (
	"context"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
)

// BenchmarkDeliver measures results per second end to end: from the outbox
// through opening the ECK iDs, building and sending BrengLeerresultaten to
// las-sim on loopback (which parses each request, checks every pupil and
// writes and fsyncs its results log), to the signed, gzipped evidence and
// the settled batch in the store. las-sim runs in the same process, so its
// CPU counts too. Run with: go test -run '^$' -bench Deliver -benchtime 3x ./gateway/delivery/
func BenchmarkDeliver(b *testing.B) {
	const results, batch = 20000, 500
	for _, s := range stores {
		b.Run(s.Name, func(b *testing.B) {
			var total time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				f := newFixture(b, s.Open, 2000, nil)
				_, sub := f.submit(results, batch)
				if len(sub.Batches) != results/batch {
					b.Fatalf("submitted %+v", sub)
				}
				w := f.worker(delivery.Options{Concurrency: 4})
				b.StartTimer()
				start := time.Now()
				d, err := w.Drain(context.Background())
				total += time.Since(start)
				if err != nil || d.Results[gateway.BatchAccepted] != results {
					b.Fatalf("Drain = %+v, %v", d, err)
				}
			}
			b.ReportMetric(float64(results*b.N)/total.Seconds(), "results/s")
			b.ReportMetric(float64(total.Microseconds())/float64(b.N*results/batch), "µs/batch")
		})
	}
}
