package schedule_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/schedule"
)

func ticks(t *testing.T, expr, zone string, from time.Time, n int) []string {
	t.Helper()
	c, err := schedule.ParseCron(expr, zone)
	require.NoError(t, err)
	var out []string
	at := from
	for range n {
		at = c.Next(at)
		out = append(out, at.Format("2006-01-02 15:04 MST"))
	}
	return out
}

func TestCronDST(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	// 2026-03-08: clocks jump from 02:00 EST to 03:00 EDT. A 02:30 job
	// runs once, at the jump, and the next day at 02:30 again.
	require.Equal(t, []string{"2026-03-07 02:30 EST", "2026-03-08 03:00 EDT", "2026-03-09 02:30 EDT"},
		ticks(t, "30 2 * * *", "America/New_York", time.Date(2026, 3, 7, 0, 0, 0, 0, ny), 3))
	// 2026-11-01: clocks go back from 02:00 EDT to 01:00 EST. A 01:30 job
	// runs once, the first time.
	require.Equal(t, []string{"2026-10-31 01:30 EDT", "2026-11-01 01:30 EDT", "2026-11-02 01:30 EST"},
		ticks(t, "30 1 * * *", "America/New_York", time.Date(2026, 10, 31, 0, 0, 0, 0, ny), 3))
	// Every 30 minutes follows real time: both passes of the repeated
	// hour, nothing in the skipped one.
	require.Equal(t, []string{"2026-11-01 01:00 EDT", "2026-11-01 01:30 EDT", "2026-11-01 01:00 EST", "2026-11-01 01:30 EST", "2026-11-01 02:00 EST"},
		ticks(t, "*/30 * * * *", "America/New_York", time.Date(2026, 11, 1, 0, 59, 0, 0, ny), 5))
	require.Equal(t, []string{"2026-03-08 01:30 EST", "2026-03-08 03:00 EDT", "2026-03-08 03:30 EDT"},
		ticks(t, "*/30 * * * *", "America/New_York", time.Date(2026, 3, 8, 1, 10, 0, 0, ny), 3))
	// A job inside the skipped hour each quarter fires once at the jump.
	require.Equal(t, []string{"2026-03-08 03:00 EDT", "2026-03-09 02:00 EDT"},
		ticks(t, "*/15 2 * * *", "America/New_York", time.Date(2026, 3, 8, 0, 0, 0, 0, ny), 2))
	// Europe: the same rules, at other times (2026-03-29 02:00 CET -> 03:00 CEST).
	require.Equal(t, []string{"2026-03-29 03:00 CEST", "2026-03-30 02:30 CEST"},
		ticks(t, "30 2 * * *", "Europe/Paris", time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC), 2))
}

func TestCronParse(t *testing.T) {
	for _, bad := range []string{"", "* * * *", "61 * * * *", "* * * * * * * *", "@often"} {
		_, err := schedule.ParseCron(bad, "")
		require.Error(t, err, bad)
	}
	_, err := schedule.ParseCron("@daily", "Mars/Olympus")
	require.ErrorContains(t, err, "time zone")
	c, err := schedule.ParseCron("@hourly", "")
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 1, 1, 11, 0, 0, 0, time.UTC), c.Next(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)).UTC())
}
