package action

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type Retry struct {
	Attempts int           `json:"attempts"`
	Backoff  time.Duration `json:"backoff"`
}

type Common struct {
	Region string `skript:"default=eu"`
}

type chargeParams struct {
	Common
	OrderID  string            `json:"order_id" skript:"required,doc=the order to charge, as in the shop"`
	Amount   float64           `json:"amount" skript:"required"`
	Currency string            `skript:"enum=EUR|USD,default=EUR"`
	Quantity int               `json:"qty"`
	Express  bool              `json:"express,omitempty"`
	Tags     []string          `json:"tags"`
	Meta     map[string]any    `json:"meta"`
	Labels   map[string]string `json:"labels"`
	Timeout  time.Duration     `json:"timeout" skript:"default=5s"`
	Retry    *Retry            `json:"retry"`
	Note     *string           `json:"note"`
	Extra    any               `json:"extra"`
	HTTPCode uint16
	Skipped  string `json:"-"`
	private  string //nolint:unused // unexported fields must be skipped by SchemaOf
}

func TestSchemaOf(t *testing.T) {
	s, err := SchemaOf[chargeParams]()
	require.NoError(t, err)
	require.False(t, s.Open)
	require.Equal(t, []Field{
		{Name: "region", Type: String, Default: "eu"},
		{Name: "order_id", Type: String, Required: true, Doc: "the order to charge, as in the shop"},
		{Name: "amount", Type: Number, Required: true},
		{Name: "currency", Type: String, Enum: []string{"EUR", "USD"}, Default: "EUR"},
		{Name: "qty", Type: Integer},
		{Name: "express", Type: Boolean},
		{Name: "tags", Type: List, Elem: String},
		{Name: "meta", Type: Map, Elem: Any},
		{Name: "labels", Type: Map, Elem: String},
		{Name: "timeout", Type: Duration, Default: "5s"},
		{Name: "retry", Type: Map, Struct: &Schema{Fields: []Field{
			{Name: "attempts", Type: Integer},
			{Name: "backoff", Type: Duration},
		}}},
		{Name: "note", Type: String},
		{Name: "extra", Type: Any},
		{Name: "http_code", Type: Integer, lo: 0, hi: 65535, ranged: true},
	}, s.Fields)

	ptr, err := SchemaOf[*chargeParams]()
	require.NoError(t, err)
	require.Equal(t, s, ptr)

	open, err := SchemaOf[map[string]any]()
	require.NoError(t, err)
	require.True(t, open.Open)
}

func TestSchemaOfErrors(t *testing.T) {
	_, err := SchemaOf[int]()
	require.EqualError(t, err, "params type int must be a struct")

	_, err = SchemaOf[struct {
		C chan int
	}]()
	require.ErrorContains(t, err, "type chan int cannot be a param")

	_, err = SchemaOf[struct {
		M map[int]string
	}]()
	require.ErrorContains(t, err, "map keys must be strings")

	_, err = SchemaOf[struct {
		N int `skript:"default=many"`
	}]()
	require.ErrorContains(t, err, `invalid syntax`)

	_, err = SchemaOf[struct {
		N int `skript:"requird"`
	}]()
	require.ErrorContains(t, err, `unknown skript tag option "requird"`)

	_, err = SchemaOf[struct {
		Common
		Place string `json:"region"`
	}]()
	require.ErrorContains(t, err, `field "region" declared twice`)
}

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{
		"Name": "name", "MaxBody": "max_body", "URL": "url", "UserID": "user_id",
		"HTTPTimeout": "http_timeout", "A1B": "a1_b", "x": "x",
	} {
		require.Equal(t, want, snake(in), in)
	}
}

func TestRegisterRoundTrip(t *testing.T) {
	r := Builtins()
	var got chargeParams
	var gotCall *Call
	err := Register(r, "charge", func(ctx context.Context, p chargeParams) (any, error) {
		got = p
		gotCall, _ = CallFrom(ctx)
		type receipt struct {
			ID     string  `json:"id"`
			Amount float64 `json:"amount"`
			Count  int64   `json:"count"`
		}
		return receipt{ID: "r-" + p.OrderID, Amount: p.Amount, Count: 3}, nil
	})
	require.NoError(t, err)
	require.EqualError(t, Register(r, "charge", func(ctx context.Context, p chargeParams) (any, error) { return nil, nil }),
		`action "charge" is already registered`)

	a, ok := r.Lookup("charge")
	require.True(t, ok)

	// What the compiler does with literals, then what the runtime does.
	f, _ := a.Schema.Field("timeout")
	require.EqualError(t, f.CheckValue("soon"), `must be a duration like "200ms", got "soon"`)
	params, err := a.Schema.Decode(map[string]any{
		"order_id": "o-1", "amount": 12.5, "qty": 2.0, "express": true,
		"tags": []any{"a", "b"}, "meta": map[string]any{"k": 1.0}, "labels": map[string]any{"x": "y"},
		"retry": map[string]any{"attempts": 3, "backoff": "250ms"},
		"note":  "fragile", "extra": []any{1.0}, "http_code": 201, "region": "us",
	})
	require.NoError(t, err)
	var logs bytes.Buffer
	c := &Call{Params: params, Logger: slog.New(slog.NewTextHandler(&logs, nil)), RunID: "run-9", NodeID: "pay", Attempt: 2}
	out, err := a.Run(context.Background(), c)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"id": "r-o-1", "amount": 12.5, "count": 3}, out)

	note := "fragile"
	require.Equal(t, chargeParams{
		Common:   Common{Region: "us"},
		OrderID:  "o-1",
		Amount:   12.5,
		Currency: "EUR",
		Quantity: 2,
		Express:  true,
		Tags:     []string{"a", "b"},
		Meta:     map[string]any{"k": 1},
		Labels:   map[string]string{"x": "y"},
		Timeout:  5 * time.Second,
		Retry:    &Retry{Attempts: 3, Backoff: 250 * time.Millisecond},
		Note:     &note,
		Extra:    []any{1},
		HTTPCode: 201,
	}, got)
	require.Same(t, c, gotCall)

	_, err = a.Schema.Decode(map[string]any{"amount": 1})
	require.EqualError(t, err, "order_id: missing required param")
}

func TestRegisterPointerAndErrors(t *testing.T) {
	r := NewRegistry()
	type params struct {
		N int `json:"n"`
	}
	boom := errors.New("boom")
	require.NoError(t, Register(r, "p", func(ctx context.Context, p *params) (any, error) {
		if p.N < 0 {
			return nil, boom
		}
		return map[string]int{"double": p.N * 2}, nil
	}))
	a, _ := r.Lookup("p")
	out, err := a.Run(context.Background(), &Call{})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"double": 0}, out)

	out, err = a.Run(context.Background(), &Call{Params: map[string]any{"n": 21}})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"double": 42}, out)

	_, err = a.Run(context.Background(), &Call{Params: map[string]any{"n": -1}})
	require.ErrorIs(t, err, boom)

	_, err = a.Run(context.Background(), &Call{Params: map[string]any{"n": "x"}})
	require.EqualError(t, err, `params: n: must be an integer that fits int, got "x"`)

	require.NoError(t, Register(r, "bad-output", func(ctx context.Context, p params) (any, error) {
		return func() {}, nil
	}))
	a, _ = r.Lookup("bad-output")
	_, err = a.Run(context.Background(), &Call{})
	require.ErrorContains(t, err, `action "bad-output": output: a func() cannot be kept in a run`)

	require.EqualError(t, Register[params](r, "nil", nil), `action "nil" has no function`)
	require.ErrorContains(t, Register(r, "int", func(ctx context.Context, p int) (any, error) { return nil, nil }),
		"must be a struct")
}
