package service_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/skript-dev/skript/service"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
	"github.com/skript-dev/skript/store/redis/redistest"
)

// BenchmarkList measures what `skript runs --workflow W` asks of the
// service (the newest 20 runs of one workflow and the counts by status)
// over 100,000 kept runs of 4 workflows. On Redis the runs are created
// once, which takes a while.
func BenchmarkList(b *testing.B) {
	const n = 100_000
	for _, name := range []string{"memory", "redis"} {
		b.Run(name, func(b *testing.B) {
			var st store.Store = memory.New()
			if name == "redis" {
				var err error
				if st, err = store.Open(context.Background(), redistest.Start(b).URL(), store.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			defer func() { _ = st.Close() }()
			ctx := context.Background()
			base := time.Now().Add(-n * time.Second)
			for i := range n {
				err := st.CreateRun(ctx, &store.Run{ID: fmt.Sprintf("run-%09d", i), Workflow: fmt.Sprintf("wf%d", i%4), Hash: "h",
					Created: base.Add(time.Duration(i) * time.Second)}, &store.Transition{})
				if err != nil {
					b.Fatal(err)
				}
			}
			svc, err := service.New(service.Config{Store: st})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				list, err := svc.List(ctx, service.ListRequest{Workflow: "wf1", Limit: 20, Counts: true})
				if err != nil || len(list.Runs) != 20 || list.Counts[store.Running] != n/4 {
					b.Fatal(err, len(list.Runs), list.Counts)
				}
			}
		})
	}
}
