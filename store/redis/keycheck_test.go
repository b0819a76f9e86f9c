package redis

import (
	"os"

	"github.com/redis/rueidis"
)

// init makes every test of the package run the scripts behind
// testdata/keycheck.lua, which fails any redis.call on a key the script
// did not declare in KEYS. SKRIPT_REDIS_KEYCHECK=0 turns it off (for
// benchmarks, where the check's own cost would be measured).
func init() {
	if os.Getenv("SKRIPT_REDIS_KEYCHECK") == "0" {
		return
	}
	prelude, err := os.ReadFile("testdata/keycheck.lua")
	if err != nil {
		panic(err)
	}
	for _, s := range []struct {
		v    **rueidis.Lua
		name string
	}{
		{&applyScript, "apply.lua"}, {&leaseScript, "lease.lua"}, {&promoteScript, "promote.lua"},
		{&buryScript, "bury.lua"}, {&releaseScript, "release.lua"}, {&startScript, "start.lua"},
		{&extendScript, "extend.lua"}, {&idemScript, "idem.lua"}, {&trimScript, "trim.lua"}, {&migrateScript, "migrate.lua"},
	} {
		src, err := scriptFS.ReadFile("scripts/" + s.name)
		if err != nil {
			panic(err)
		}
		*s.v = rueidis.NewLuaScript(string(prelude) + "\n" + string(src))
	}
}
