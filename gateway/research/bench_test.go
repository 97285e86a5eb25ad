package research_test

import (
	"fmt"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/research"
)

// BenchmarkBuild: one study's export of a school of 10,000 pupils with
// four results each (go test -bench Build -benchmem ./gateway/research/).
func BenchmarkBuild(b *testing.B) {
	var in research.Input
	for i := range 10000 {
		p := pupil(i, fmt.Sprintf("%d-%02d-%02d", 2012+i%8, 1+i%12, 1+i%28), []string{"1", "2"}[i%2], fmt.Sprint(1+i%8))
		in.Pupils = append(in.Pupils, p)
		for j := range 4 {
			in.Results = append(in.Results, result(i*4+j, p, "REK", "P1", fmt.Sprintf("2025-10-%02d", 1+j), fmt.Sprint(j*10)))
		}
	}
	s := study(5)
	b.ReportAllocs()
	for b.Loop() {
		ex, err := research.Build(s, key(1), in, today)
		if err != nil {
			b.Fatal(err)
		}
		if ex.Manifest.Pupils == 0 {
			b.Fatal("no pupils exported")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(len(in.Pupils)), "µs/pupil")
}
