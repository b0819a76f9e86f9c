package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
)

// testSchedules: specs and states are kept apart, listed by name, and
// deleted together; a state alone is no schedule.
func testSchedules(t *testing.T, s store.Store) {
	sc, ok := s.(store.Schedules)
	if !ok {
		t.Skip("the driver keeps no schedules")
	}
	ctx := ctxT(t)
	_, err := sc.GetSchedule(ctx, "nightly")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, sc.DeleteSchedule(ctx, "nightly"), store.ErrNotFound)

	require.NoError(t, sc.PutSchedule(ctx, "nightly", []byte(`{"cron":"0 3 * * *"}`)))
	require.NoError(t, sc.PutSchedule(ctx, "hourly", []byte(`{"cron":"0 * * * *"}`)))
	rec, err := sc.GetSchedule(ctx, "nightly")
	require.NoError(t, err)
	require.Equal(t, `{"cron":"0 3 * * *"}`, string(rec.Spec))
	require.Nil(t, rec.State)

	require.NoError(t, sc.PutScheduleState(ctx, "nightly", []byte(`{"last":1}`)))
	// Replacing the spec keeps the state, and the reverse.
	require.NoError(t, sc.PutSchedule(ctx, "nightly", []byte(`{"cron":"0 4 * * *"}`)))
	rec, err = sc.GetSchedule(ctx, "nightly")
	require.NoError(t, err)
	require.Equal(t, `{"cron":"0 4 * * *"}`, string(rec.Spec))
	require.Equal(t, `{"last":1}`, string(rec.State))

	require.NoError(t, sc.PutScheduleState(ctx, "orphan", []byte(`{}`)))
	all, err := sc.ListSchedules(ctx)
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, "hourly", all[0].Name)
	require.Equal(t, "nightly", all[1].Name)
	require.Equal(t, `{"last":1}`, string(all[1].State))

	require.NoError(t, sc.DeleteSchedule(ctx, "nightly"))
	_, err = sc.GetSchedule(ctx, "nightly")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, sc.PutSchedule(ctx, "nightly", []byte(`{}`)))
	rec, err = sc.GetSchedule(ctx, "nightly")
	require.NoError(t, err)
	require.Nil(t, rec.State, "a deleted schedule's state goes with it")
}
