package skript_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/skript-dev/skript"
)

// Compile a workflow, run it in this process and read its output.
func Example() {
	src := []byte(`
name: greet
inputs:
  who: {type: string, default: world}
nodes:
  - id: hello
    kind: Action
    action: set
    params: {text: "hello ${{ input.who }}"}
  - id: loud
    kind: Action
    action: set
    params: {text: "${{ upper(nodes.hello.output.text) }}"}
`)
	eng, err := skript.New()
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	bp, err := eng.Compile("greet.yaml", src)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	run, err := eng.Start(ctx, bp, map[string]any{"who": "gopher"})
	if err != nil {
		panic(err)
	}
	res, err := run.Wait(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Status, res.Output)
	// Output: succeeded map[text:HELLO GOPHER]
}

// Cancel a run, and wait for it, by its id: the program doing so need not
// be the one that started the run (on Redis, any process can).
func ExampleEngine_Cancel() {
	eng, err := skript.New()
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	err = skript.Register(eng, "approve", func(ctx context.Context, _ struct{}) (any, error) {
		<-ctx.Done() // waits for a person; cancelling the run stops the wait
		return nil, ctx.Err()
	})
	if err != nil {
		panic(err)
	}
	bp, err := eng.Compile("approval.yaml", []byte(`
name: approval
nodes:
  - {id: approve, kind: Action, action: approve}
`))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	run, err := eng.Start(ctx, bp, nil)
	if err != nil {
		panic(err)
	}
	id := run.ID // kept, or passed to another program

	if err := eng.Cancel(ctx, id, "order withdrawn"); err != nil {
		panic(err)
	}
	res, err := eng.Wait(ctx, id)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Status, res.Error.Message)
	// Output: cancelled order withdrawn
}

// ChargeParams are the params of the "charge" action: the compiler checks
// workflows against them.
type ChargeParams struct {
	OrderID string  `json:"order_id" skript:"required"`
	Amount  float64 `json:"amount" skript:"required"`
}

// Register a typed Go function as an action.
func ExampleRegister() {
	eng, err := skript.New()
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	err = skript.Register(eng, "charge", func(_ context.Context, p ChargeParams) (any, error) {
		return map[string]any{"charged": p.Amount, "order": p.OrderID}, nil
	})
	if err != nil {
		panic(err)
	}
	bp, err := eng.Compile("pay.yaml", []byte(`
name: pay
nodes:
  - {id: pay, kind: Action, action: charge, params: {order_id: A-1, amount: 12.5}}
`))
	if err != nil {
		panic(err)
	}
	run, err := eng.Start(context.Background(), bp, nil)
	if err != nil {
		panic(err)
	}
	res, err := run.Wait(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Output)

	// A mistake in the params is caught before anything runs.
	_, err = eng.Compile("pay.yaml", []byte(`
name: pay
nodes:
  - {id: pay, kind: Action, action: charge, params: {order: A-1, amount: "12.5"}}
`))
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Println(line)
	}
	// Output:
	// map[charged:12.5 order:A-1]
	// pay.yaml:4:45: action "charge" needs param "order_id"
	// pay.yaml:4:54: unknown param "order" for action "charge"; it takes "order_id" and "amount"
	// pay.yaml:4:74: param "amount" of action "charge" must be a number, got "12.5"
}

// Every mistake in a workflow is reported at once, each with its position.
func ExampleCompile() {
	_, err := skript.Compile("flow.yaml", []byte(`
name: broken
nodes:
  - {id: a, kind: Action, action: http_pst, params: {url: "http://localhost"}}
  - {id: b, kind: Paralel, branches: []}
`))
	fmt.Println(err)
	// Output:
	// flow.yaml:4:35: unknown action "http_pst"; did you mean "http_post"?
	// flow.yaml:5:19: unknown kind "Paralel"; did you mean "Parallel"?
}
