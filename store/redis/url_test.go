package redis_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store/redis"
	"github.com/skript-dev/skript/store/redis/redistest"
)

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"redis://127.0.0.1:6390/0":             "redis://127.0.0.1:6390/0",
		"redis://u:pw@h:1/0":                   "redis://u:***@h:1/0",
		"redis://:pw@h:1/0":                    "redis://:***@h:1/0",
		"redis://token@h:1/0":                  "redis://***@h:1/0",
		"rediss://u:p@ss@h:1/0?ca=/a@b":        "rediss://u:***@h:1/0?ca=/a@b",
		"redis://u:p/w@h:1/0":                  "redis://u:***@h:1/0",
		"redis://u:p w@[::1/0":                 "redis://u:***@[::1/0",
		"u:pw@h:1":                             "***@h:1",
		"memory":                               "memory",
		"redis://u:pw@h:1/0?client_name=x%20y": "redis://u:***@h:1/0?client_name=x%20y",
	} {
		require.Equal(t, want, redis.RedactURL(in), in)
	}
}

// Open tells a Redis it cannot reach, which a later try may find, from a
// URL no retry mends.
func TestOpenErrUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := redis.Open(ctx, "redis://u:pw123456@127.0.0.1:"+strconv.Itoa(redistest.FreePort(t))+"/0")
	require.ErrorIs(t, err, redis.ErrUnreachable)
	require.NotContains(t, err.Error(), "pw123456")

	_, err = redis.Open(ctx, "redis://u:pw123456@127.0.0.1:1/0?nope=1")
	require.Error(t, err)
	require.False(t, errors.Is(err, redis.ErrUnreachable), err)
	require.NotContains(t, err.Error(), "pw123456")
}
