package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/skript-dev/skript/store"
)

// Runs created by a version that kept a hash per Fork or Map group
// (grp:ID:GID, named by the header's grp:GID fields) and no index entry
// are moved to today's layout the first time an apply call meets them
// while they run: the call changes nothing and names them (apply.lua),
// and migrate moves each in one call of scripts/migrate.lua, whose keys,
// found from the header, are all declared. The apply call then runs again.

var migrateScript = loadScript("migrate.lua")

// migrate moves the runs ids of partition part to today's layout.
func (s *Store) migrate(ctx context.Context, part int, ids []string) error {
	p := s.parts[part]
	for _, id := range ids {
		hk := p.prefix + "run:" + id
		res := s.c.DoMulti(ctx, s.c.B().Hget().Key(hk).Field("hdr").Build(), s.c.B().Hkeys().Key(hk).Build())
		hdr, err := res[0].ToString()
		if err != nil {
			return fmt.Errorf("redis store: migrate run %s: %w", id, err)
		}
		fields, err := res[1].AsStrSlice()
		if err != nil {
			return fmt.Errorf("redis store: migrate run %s: %w", id, err)
		}
		var r store.Run
		if err := json.Unmarshal([]byte(hdr), &r); err != nil {
			return fmt.Errorf("redis store: migrate run %s: bad header: %w", id, store.Permanent(err))
		}
		keys := []string{hk, p.prefix + "grp:" + id, p.idx, p.statusKey(store.Running), p.workflowKey(r.Workflow), p.countKey()}
		args := []string{strconv.FormatInt(r.Created.UnixMicro(), 10), r.Workflow, id}
		for _, f := range fields {
			if gid, ok := strings.CutPrefix(f, "grp:"); ok {
				keys = append(keys, p.prefix+"grp:"+id+":"+gid)
				args = append(args, gid)
			}
		}
		if err := migrateScript.Exec(ctx, s.c, keys, args).Error(); err != nil {
			return classify(fmt.Errorf("redis store: migrate run %s: %w", id, err))
		}
	}
	return nil
}
