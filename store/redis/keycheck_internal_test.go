package redis

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store/redis/redistest"
)

// TestKeyCheckRefusesUndeclaredKeys checks the checker the package's tests
// run the scripts behind (keycheck_test.go): a key built inside a script
// fails the call, a declared one works, and a command missing from its key
// table fails too.
func TestKeyCheckRefusesUndeclaredKeys(t *testing.T) {
	tg := redistest.New(t)
	c := tg.Client(t)
	p := tg.Prefix(t)
	prelude, err := os.ReadFile("testdata/keycheck.lua")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	run := func(body string, keys ...string) error {
		return rueidis.NewLuaScript(string(prelude)+"\n"+body).Exec(ctx, c, keys, nil).Error()
	}
	k := p + ":{x}:a"
	require.NoError(t, run(`redis.call('HSET', KEYS[1], 'f', 'v') return redis.call('HGET', KEYS[1], 'f')`, k))
	err = run(`return redis.call('HGET', KEYS[1] .. 'b', 'f')`, k)
	require.ErrorContains(t, err, "keycheck: HGET on undeclared key "+k+"b")
	err = run(`return redis.pcall('DEL', KEYS[1], KEYS[1] .. 'b')`, k)
	require.ErrorContains(t, err, "undeclared key")
	err = run(`return redis.call('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', KEYS[1] .. 'q', '>')`, k)
	require.ErrorContains(t, err, "undeclared key")
	err = run(`return redis.call('LPUSH', KEYS[1], 'x')`, k)
	require.ErrorContains(t, err, "not in the key table")
}
