package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/rueidis"

	"github.com/skript-dev/skript/store/redis"
)

// CommandCounter connects to the Redis at url and returns a function that
// reads how many commands the server (every node, on a Cluster) has run so
// far, from INFO commandstats. Commands run by scripts count one each, as
// the script call itself does. It counts every client's commands: the
// figure is the store's only while nothing else uses that Redis.
func CommandCounter(url string) (count func(context.Context) (int64, error), closeFn func(), err error) {
	// The store's parser: it takes the TLS files of the URL, and its
	// errors do not quote the password.
	opt, err := redis.ClientOptions(url)
	if err != nil {
		return nil, nil, err
	}
	c, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, nil, fmt.Errorf("connect %s: %w", redis.RedactURL(url), err)
	}
	count = func(ctx context.Context) (int64, error) {
		var total int64
		for _, n := range c.Nodes() {
			info, err := n.Do(ctx, n.B().Info().Section("commandstats").Build()).ToString()
			if err != nil {
				return 0, err
			}
			total += ParseCommandStats(info)
		}
		return total, nil
	}
	return count, c.Close, nil
}

// ParseCommandStats sums the calls of every command in the text of INFO
// commandstats ("cmdstat_xadd:calls=12,usec=...").
func ParseCommandStats(info string) int64 {
	var total int64
	for line := range strings.SplitSeq(info, "\n") {
		_, rest, ok := strings.Cut(line, ":calls=")
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(rest, ",")
		if v, err := strconv.ParseInt(num, 10, 64); err == nil {
			total += v
		}
	}
	return total
}
