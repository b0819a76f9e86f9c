package dsl

// This file is the one list of the DSL's fields. The decoder takes the
// allowed names from it and the JSON Schema its descriptions and value
// shapes, so an editor and the parser cannot disagree about what a field is.

import "slices"

// field documents one key of a mapping in the DSL.
type field struct {
	name   string
	doc    string
	schema map[string]any // JSON Schema of the field's value
}

// names lists the keys of fs, in order.
func names(fs []field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.name
	}
	return out
}

func has(fs []field, name string) bool {
	for _, f := range fs {
		if f.name == name {
			return true
		}
	}
	return false
}

// durationPattern matches the durations time.ParseDuration accepts without
// a minus sign, for editors; the parser itself calls time.ParseDuration and
// refuses a duration that is not more than zero, which zeroDurationPattern
// matches so the schema can refuse it too.
const (
	durationPattern     = `^\+?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$`
	zeroDurationPattern = `^\+?((0+(\.0*)?|\.0+)(ns|us|µs|μs|ms|s|m|h))+$|^\+?0$`
)

func ref(name string) map[string]any { return map[string]any{"$ref": "#/$defs/" + name} }

func typ(t string) map[string]any { return map[string]any{"type": t} }

var (
	durationSchema = map[string]any{
		"type": "string", "pattern": durationPattern,
		"not": map[string]any{"pattern": zeroDurationPattern},
	}
	// nonBlank is a string with something other than spaces in it: the
	// parser refuses an empty expression.
	nonBlank = map[string]any{"type": "string", "pattern": `\S`}
	// conditionSchema is an expression giving true or false: a string, or
	// a literal boolean (a literal number is refused by the compiler).
	conditionSchema = map[string]any{"anyOf": []any{nonBlank, typ("boolean")}}
	// listExprSchema is an expression giving a list: always a string.
	listExprSchema = nonBlank
	nodeListSchema = ref("nodeList")
)

var workflowFields = []field{
	{"$schema", "The JSON Schema this file follows, for editors; ignored by Skript.", typ("string")},
	{"name", "The workflow's name, shown in run records. Required; letters, digits, '.', '_' and '-' are a good habit.", map[string]any{"type": "string", "minLength": 1}},
	{"version", "Free text shown in run records, such as \"3\" or \"2024-05-01\".", map[string]any{"anyOf": []any{typ("string"), typ("number")}}},
	{"description", "What the workflow does, for people.", typ("string")},
	{"inputs", "Typed run inputs, checked before a run starts, by name.", map[string]any{
		"type": "object", "additionalProperties": ref("input"),
		"propertyNames": map[string]any{"minLength": 1},
	}},
	{"defaults", "Settings applied to every Action node that does not set them itself.", ref("defaults")},
	{"functions", "Reusable sub-flows by name, inlined by the compiler at each Call node.", map[string]any{
		"type": "object", "additionalProperties": ref("function"),
		"propertyNames": map[string]any{"minLength": 1},
	}},
	{"nodes", "The nodes of the workflow, run top to bottom. Required, at least one.", map[string]any{"$ref": "#/$defs/nodeList", "type": "array", "minItems": 1}},
	{"finally", "Nodes that run once the workflow's nodes have ended, whether they succeeded, failed or the run was cancelled, with run.status and run.error in scope. Their own failure is recorded on their nodes; it fails a run that had succeeded, and leaves the status and error of one that had failed or was cancelled as they were.", map[string]any{"$ref": "#/$defs/nodeList", "type": "array", "minItems": 1}},
	{"output", "The run's output: any value, usually one \"${{ expression }}\". Without it the run's output is the last output of the top-level nodes.", map[string]any{}},
}

// inputTypes are the types an input may declare, named as Kind.String
// names value kinds.
var inputTypes = []string{"string", "integer", "number", "boolean", "list", "map"}

var inputFields = []field{
	{"type", "The input's type; without it any value is accepted.", map[string]any{"enum": anyList(inputTypes)}},
	{"default", "The value used when the run does not give the input; it must have the declared type.", map[string]any{}},
	{"required", "Whether a run must give the input.", typ("boolean")},
	{"description", "What the input means, for people.", typ("string")},
}

var retryFields = []field{
	{"max_attempts", "How many times the node runs at most, the first attempt included.", map[string]any{"type": "integer", "minimum": 1}},
	{"initial_interval", "The wait before the first retry, a duration such as \"200ms\".", durationSchema},
	{"backoff", "The factor the wait grows by after each retry, at least 1.", map[string]any{"type": "number", "minimum": 1}},
	{"max_interval", "The longest wait between two attempts, a duration such as \"10s\".", durationSchema},
	{"jitter", "The fraction each wait is spread by at random, from 0 (none) to 1: 0.1 (the default) waits between 90% and 110% of the computed wait, never beyond max_interval.", map[string]any{"type": "number", "minimum": 0, "maximum": 1}},
	{"when", "An expression over error and attempt: a failed attempt is retried only when it holds, such as \"error.status >= 500\".", typ("string")},
	{"errors", "The error types to retry, such as [http.status, timeout]; any other is not retried. Only a type listed here retries fail and params errors.", errorTypesSchema},
	{"except", "The error types never to retry, such as [http.status].", errorTypesSchema},
}

// errorTypesSchema is a list of error types.
var errorTypesSchema = map[string]any{"type": "array", "minItems": 1, "items": typ("string"), "uniqueItems": true}

var defaultsFields = []field{
	{"timeout", "How long one attempt of an Action may run, a duration such as \"30s\".", durationSchema},
	{"retry", "The retry policy of every Action.", ref("retry")},
	{"on_error", "What a final failure does: \"fail\" fails the run, \"continue\" records the error as the node's output and goes on.", map[string]any{"enum": []any{"fail", "continue"}}},
}

var functionFields = []field{
	{"params", "The names of the function's parameters, read as params.NAME in its nodes.", map[string]any{
		"type": "array", "items": map[string]any{"type": "string", "pattern": `^[A-Za-z_][A-Za-z0-9_]*$`}, "uniqueItems": true,
	}},
	{"nodes", "The function's nodes; at a Call each gets the id CALLID.INNERID.", map[string]any{"$ref": "#/$defs/nodeList", "type": "array", "minItems": 1}},
}

var caseFields = []field{
	{"when", "An expression; the first case whose expression holds runs.", conditionSchema},
	{"nodes", "The nodes run when this case is taken.", nodeListSchema},
}

// commonFields may be written on a node of any kind.
var commonFields = []field{
	{"id", "The node's id, unique in the whole file: letters, digits, '_' and '-'. Other nodes read its result as nodes.ID.output.", map[string]any{"anyOf": []any{
		map[string]any{"type": "string", "pattern": `^[A-Za-z0-9_-]+$`}, typ("integer"),
	}}},
	{"kind", "What the node does.", map[string]any{"enum": anyList(Kinds)}},
	{"name", "A display name for the node.", typ("string")},
	{"timeout", "How long one attempt of the node may run, a duration such as \"30s\".", durationSchema},
	{"retry", "How the node is retried when it fails.", ref("retry")},
	{"on_error", "What a final failure does: \"fail\" (the default) fails the run, \"continue\" records {error: {message, node}} as the node's output and goes on.", map[string]any{"enum": []any{"fail", "continue"}}},
	{"catch", "Nodes run when the node fails after its retries, with error in scope; their last output becomes the node's output.", nodeListSchema},
	{"break_if", "In the body of a while or until Loop: an expression evaluated right after this node, with its record in scope; when it holds the loop ends there, its last iteration's output being this node's.", conditionSchema},
	{"depends", "In a Graph: the ids of the Graph's nodes this node runs after, one id or a list.", map[string]any{"anyOf": []any{
		idSchema, map[string]any{"type": "array", "items": idSchema, "uniqueItems": true},
	}}},
	{"trigger_rule", "In a Graph: when the node runs once its dependencies have finished: all_succeeded (the default), all_done, any_failed or none_failed_min_one_success; otherwise it is skipped.", map[string]any{"enum": anyList(TriggerRules)}},
}

// idSchema is a node id as another node names it.
var idSchema = map[string]any{"type": "string", "pattern": `^[A-Za-z0-9_-]+$`}

// kindFields are the fields each kind adds to commonFields, and the kinds'
// own descriptions.
var kindFields = map[string][]field{
	"Action": {
		{"action", "The action to run: a built-in (noop, log, set, sleep, fail, http, http_post, shell) or one the host program registered.", map[string]any{"type": "string", "minLength": 1}},
		{"params", "The action's parameters; strings may embed ${{ expression }}.", typ("object")},
	},
	"Parallel": {
		{"branches", "The branches, each a list of nodes, run concurrently; the node's output is the list of each branch's last output. At most 10000; a for_each Loop fans out over data.", map[string]any{
			"type": "array", "minItems": 1, "maxItems": 10000, "items": nodeListSchema,
		}},
		{"max_concurrency", "How many branches run at once; 0 (the default) means no limit.", map[string]any{"type": "integer", "minimum": 0}},
		failFastField,
		{"mode", "all (the default): wait for every branch. first: a race; the first branch to succeed wins, the others are stopped, and the output is {branch, output}; if every branch fails, the node fails with each branch's error.", map[string]any{"enum": []any{"all", "first"}}},
	},
	"If": {
		{"condition", "An expression choosing the branch, such as nodes.fetch.output.status == 200.", conditionSchema},
		{"then", "The nodes run when the condition holds.", nodeListSchema},
		{"else", "The nodes run when it does not.", nodeListSchema},
	},
	"Loop": {
		{"while", "An expression evaluated before each iteration, with iteration (0-based), previous (the last iteration's output) and the last iteration's nodes in scope; the loop runs while it holds.", conditionSchema},
		{"until", "An expression evaluated after each iteration, with that iteration's nodes, iteration and previous (its output) in scope; the loop ends when it holds, so the body runs at least once.", conditionSchema},
		{"for_each", "An expression giving a list; the body runs once per element, with the element and index in scope.", listExprSchema},
		{"as", "The name of the element in a for_each body; item by default.", map[string]any{"type": "string", "pattern": `^[A-Za-z_][A-Za-z0-9_]*$`}},
		{"concurrency", "How many for_each iterations run at once: 1 by default, 0 means no limit.", map[string]any{"type": "integer", "minimum": 0}},
		{"body", "The nodes run in each iteration.", nodeListSchema},
		{"max_iterations", "The most iterations allowed before the node fails; 10000 by default, at most 1000000.", map[string]any{"type": "integer", "minimum": 1, "maximum": 1000000}},
		failFastField,
	},
	"Call": {
		{"function", "The name of a function from functions:, inlined here.", map[string]any{"type": "string", "minLength": 1}},
		{"args", "The function's arguments by parameter name; strings may embed ${{ expression }}.", typ("object")},
	},
	"Switch": {
		{"cases", "The cases, tried in order: the first whose when holds runs.", map[string]any{
			"type": "array", "minItems": 1, "items": ref("case"),
		}},
		{"default", "The nodes run when no case holds.", nodeListSchema},
	},
	"Graph": {
		{"graph", "The nodes of the graph; each runs as soon as the nodes it depends on have finished and its trigger_rule holds, so every node whose dependencies allow runs at once. The node's output is the list of each node's output, in the order written.", map[string]any{
			"type": "array", "minItems": 1, "items": ref("node"),
		}},
	},
	"Wait": {
		{"duration", "How long to wait: a duration such as \"5m\", or an expression giving one.", typ("string")},
		{"until", "An expression giving the RFC 3339 time to wait until.", typ("string")},
	},
}

// failFastField is a Parallel's or for_each Loop's fail_fast.
var failFastField = field{"fail_fast", "true (the default): the first failure inside fails the node and the run at once. false: every branch or iteration runs, and the node then fails with the list of every failure (which branch or iteration, which item, which node, which error), which on_error and catch on the node see.", typ("boolean")}

// commonFieldKinds limits common fields to the kinds whose runs use them;
// the parser reads them on every node so the compiler can say what is
// wrong, and the schema offers them only where the compiler accepts them.
var commonFieldKinds = map[string][]string{
	"timeout":  {"Action", "Wait"},
	"retry":    {"Action"},
	"on_error": {"Action", "Parallel", "Loop"},
	"catch":    {"Action", "Parallel", "Loop"},
}

// CommonFieldAllowed reports whether a node of the given kind may set the
// common field name (timeout, retry, on_error, catch are kind-specific;
// id, kind and name go everywhere).
func CommonFieldAllowed(kind, name string) bool {
	kinds, limited := commonFieldKinds[name]
	return !limited || slices.Contains(kinds, kind)
}

// nodeFields are the fields the schema offers on a node of the kind.
func nodeFields(kind string) []field {
	var out []field
	for _, f := range commonFields {
		if CommonFieldAllowed(kind, f.name) {
			out = append(out, f)
		}
	}
	return append(out, kindFields[kind]...)
}

// kindRequired are the fields a kind cannot do without, beyond id and kind.
var kindRequired = map[string][]string{
	"Action":   {"action"},
	"Parallel": {"branches"},
	"If":       {"condition", "then"},
	"Loop":     {"body"},
	"Call":     {"function"},
	"Switch":   {"cases"},
	"Graph":    {"graph"},
}

// kindDocs describe the kinds, for the schema.
var kindDocs = map[string]string{
	"Action":   "Runs one action.",
	"Parallel": "Runs its branches concurrently and continues when all have finished.",
	"If":       "Runs one of two node lists, chosen by a condition.",
	"Loop":     "Runs its body while a condition holds, or once per element of a list.",
	"Call":     "Runs a function from functions: with arguments.",
	"Switch":   "Runs the nodes of the first case whose condition holds, else the default.",
	"Wait":     "A durable timer: waits for a duration or until a time.",
	"Graph":    "Runs a dependency graph: each node runs when the nodes it depends on have finished (Argo's dag, Airflow's >>, GitHub's needs).",
}

// allNodeFields lists every field known on some node kind, common fields
// first, for hints when the node's kind is not known; nodeFieldNames has
// the same as a set, to tell a field of another kind from a typo.
var (
	allNodeFields  []string
	nodeFieldNames = map[string]bool{}
)

func init() {
	add := func(fs []field) {
		for _, f := range fs {
			if !nodeFieldNames[f.name] {
				nodeFieldNames[f.name] = true
				allNodeFields = append(allNodeFields, f.name)
			}
		}
	}
	add(commonFields)
	for _, k := range Kinds {
		add(kindFields[k])
	}
}

func anyList(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}
