package dsl

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// maxValueDepth bounds the nesting of the Value tree, which aliases can
// make deeper than the source (checked by maxDepth): whatever walks the
// tree recursively, here or in the compiler, stays within a known depth.
// Twice maxDepth, because the two count levels a little differently.
const maxValueDepth = 2 * maxDepth

// errTooMany stops the conversion once the value budget is spent; it never
// escapes this file.
type errTooMany struct{}

// anchorInfo remembers a converted anchor so that every alias to it shares
// the same Values instead of converting the source again, which keeps an
// alias bomb cheap to detect.
type anchorInfo struct {
	value  *Value
	size   int // Values in the expanded subtree, the anchor's own included
	height int // nesting levels of the expanded subtree
}

// converter turns goccy's syntax tree into Values.
type converter struct {
	file     string
	errs     *ErrorList
	maxNodes int
	count    int
	anchors  map[string]anchorInfo
	aliasAt  Pos // the alias being expanded, where a spent budget is reported

	// Values and Fields are carved out of slabs: a 10,000-node workflow has
	// a few hundred thousand of them, and one allocation per value made the
	// garbage collector the biggest cost of a parse.
	values []Value
	fields []Field
}

// parseYAML reads one YAML document into a Value tree. On any problem it
// records errors and returns nil.
func parseYAML(file string, src []byte, maxNodes int, errs *ErrorList) *Value {
	f, over, err := goccyParse(src)
	if over != nil {
		errs.Add(file, tokenPos(over.tk), "%s", over.msg)
		return nil
	}
	if err != nil {
		addSyntaxError(file, err, errs)
		return nil
	}
	var docs []*ast.DocumentNode
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		errs.Add(file, Pos{1, 1}, "the file holds no YAML document; a workflow needs at least \"name\" and \"nodes\"")
		return nil
	}
	if len(docs) > 1 {
		errs.Add(file, nodePos(docs[1].Body), "a workflow file holds one YAML document, found %d", len(docs))
		return nil
	}
	c := &converter{file: file, errs: errs, maxNodes: maxNodes, anchors: map[string]anchorInfo{}}
	before := len(*errs)
	v := c.run(docs[0].Body)
	if len(*errs) > before {
		// The tree has holes where the errors are; reading it as a
		// workflow would only add confusing follow-up errors.
		return nil
	}
	return v
}

// goccyParse is parser.ParseBytes with the shape limits checked between
// lexing and parsing, and with a panic inside goccy turned into an error:
// it is third-party code, and a crash there must not take the caller down.
func goccyParse(src []byte) (f *ast.File, over *limitError, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, over, err = nil, nil, fmt.Errorf("the YAML parser failed: %v", r)
		}
	}()
	tokens := lexer.Tokenize(string(src))
	if over := checkLimits(tokens); over != nil {
		return nil, over, nil
	}
	f, err = parser.Parse(tokens, 0)
	return f, nil, err
}

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

// addSyntaxError reports a goccy error as one short positioned line instead
// of goccy's pretty print with a source excerpt, which would repeat what
// ErrorList.Print already shows.
func addSyntaxError(file string, err error, errs *ErrorList) {
	pos := Pos{1, 1}
	type goccyError interface {
		GetToken() *token.Token
		GetMessage() string
	}
	var msg string
	if ge, ok := err.(goccyError); ok {
		// Not err.Error(): goccy's pretty print walks the tokens around
		// the error, which takes seconds on some inputs of a few hundred
		// kilobytes.
		msg = ge.GetMessage()
		if tk := ge.GetToken(); tk != nil && tk.Position != nil {
			pos = tokenPos(tk)
		}
	} else {
		msg = err.Error()
	}
	msg = ansiEscape.ReplaceAllString(msg, "")
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	msg = strings.TrimSpace(msg)
	if msg == "" {
		msg = "syntax error"
	}
	errs.Add(file, pos, "invalid YAML: %s", msg)
}

func tokenPos(tk *token.Token) Pos {
	if tk == nil || tk.Position == nil || tk.Position.Line < 1 {
		return Pos{1, 1}
	}
	col := tk.Position.Column
	if col < 1 {
		col = 1
	}
	return Pos{tk.Position.Line, col}
}

// nodePos is where a node starts in the source. A block mapping's own token
// is the colon after its first key, so the first key stands for it.
func nodePos(n ast.Node) Pos {
	switch n := n.(type) {
	case nil:
		return Pos{1, 1}
	case *ast.MappingNode:
		if !n.IsFlowStyle && len(n.Values) > 0 && n.Values[0] != nil && n.Values[0].Key != nil {
			return nodePos(n.Values[0].Key)
		}
		return tokenPos(n.Start)
	case *ast.MappingValueNode:
		if n.Key != nil {
			return nodePos(n.Key)
		}
		return tokenPos(n.Start)
	case *ast.DocumentNode:
		return nodePos(n.Body)
	}
	return tokenPos(n.GetToken())
}

// run converts the document body and turns a spent budget into one error.
func (c *converter) run(n ast.Node) (v *Value) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(errTooMany); !ok {
				panic(r)
			}
			at := c.aliasAt
			if !at.IsValid() {
				at = nodePos(n)
			}
			c.errs.Add(c.file, at, "document expands to more than %d values (YAML alias bomb?)", c.maxNodes)
			v = nil
		}
	}()
	v, _ = c.convert(n, 1)
	return v
}

// newValue hands out one Value from the slab and charges it to the budget.
func (c *converter) newValue(k Kind, p Pos) *Value {
	c.charge(1)
	v := c.slot()
	v.Kind, v.Pos = k, p
	return v
}

// slot is a zero Value from the slab, not charged.
func (c *converter) slot() *Value {
	if len(c.values) == 0 {
		c.values = make([]Value, 256)
	}
	v := &c.values[0]
	c.values = c.values[1:]
	return v
}

func (c *converter) newField(key string, p Pos, v *Value) *Field {
	if len(c.fields) == 0 {
		c.fields = make([]Field, 128)
	}
	f := &c.fields[0]
	c.fields = c.fields[1:]
	f.Key, f.KeyPos, f.Value = key, p, v
	return f
}

// charge counts n produced values; unwinding with a panic keeps every
// recursive call free of budget checks.
func (c *converter) charge(n int) {
	c.count += n
	if c.count > c.maxNodes || c.count < 0 {
		panic(errTooMany{})
	}
}

// convert returns the Value for n and the number of nesting levels it
// spans. depth is the level n sits at, for the nesting bound that aliases
// could otherwise get around.
func (c *converter) convert(n ast.Node, depth int) (*Value, int) {
	if depth > maxValueDepth {
		c.errs.Add(c.file, nodePos(n), "document nests deeper than %d levels once aliases are expanded", maxValueDepth)
		return c.newValue(Null, nodePos(n)), 1
	}
	switch n := n.(type) {
	case nil:
		return c.newValue(Null, Pos{}), 1
	case *ast.NullNode:
		return c.newValue(Null, tokenPos(n.Token)), 1
	case *ast.BoolNode:
		v := c.newValue(Bool, tokenPos(n.Token))
		v.Bool = n.Value
		return v, 1
	case *ast.IntegerNode:
		return c.integer(n), 1
	case *ast.FloatNode:
		v := c.newValue(Float, tokenPos(n.Token))
		v.Float = n.Value
		return v, 1
	case *ast.InfinityNode:
		v := c.newValue(Float, tokenPos(n.Token))
		v.Float = n.Value
		return v, 1
	case *ast.NanNode:
		v := c.newValue(Float, tokenPos(n.Token))
		v.Float = math.NaN()
		return v, 1
	case *ast.StringNode:
		v := c.newValue(String, tokenPos(n.Token))
		v.Str = n.Value
		return v, 1
	case *ast.LiteralNode:
		v := c.newValue(String, tokenPos(n.Start))
		if n.Value != nil {
			v.Str = n.Value.Value
		}
		return v, 1
	case *ast.TagNode:
		return c.tag(n, depth)
	case *ast.AnchorNode:
		return c.anchor(n, depth)
	case *ast.AliasNode:
		return c.alias(n, depth)
	case *ast.SequenceNode:
		return c.sequence(n, depth)
	case *ast.MappingNode:
		return c.mapping(nodePos(n), n.Values, depth)
	case *ast.MappingValueNode:
		return c.mapping(nodePos(n), []*ast.MappingValueNode{n}, depth)
	case *ast.MappingKeyNode:
		return c.convert(n.Value, depth)
	}
	c.errs.Add(c.file, nodePos(n), "unsupported YAML construct (%s)", n.Type())
	return c.newValue(Null, nodePos(n)), 1
}

func (c *converter) integer(n *ast.IntegerNode) *Value {
	p := tokenPos(n.Token)
	switch x := n.Value.(type) {
	case int64:
		v := c.newValue(Int, p)
		v.Int = x
		return v
	case uint64:
		if x <= math.MaxInt64 {
			v := c.newValue(Int, p)
			v.Int = int64(x)
			return v
		}
		v := c.newValue(Float, p)
		v.Float = float64(x)
		return v
	}
	// goccy leaves the value unset when the digits overflow 64 bits.
	text := ""
	if n.Token != nil {
		text = n.Token.Value
	}
	if f, err := strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64); err == nil {
		v := c.newValue(Float, p)
		v.Float = f
		return v
	}
	v := c.newValue(String, p)
	v.Str = text
	return v
}

// tag applies the YAML core tags the way goccy's decoder does, with two
// differences: a value that does not fit its tag is reported instead of
// silently zeroed, and !!binary and !!timestamp keep their text, since a
// Value has no bytes or time kind. Other tags leave the value as it is.
func (c *converter) tag(n *ast.TagNode, depth int) (*Value, int) {
	p := tokenPos(n.Start)
	name := ""
	if n.Start != nil {
		name = n.Start.Value
	}
	if n.Value == nil {
		return c.newValue(Null, p), 1
	}
	if n.Directive == nil {
		switch token.ReservedTagKeyword(name) {
		case token.StringTag, token.TimestampTag, token.BinaryTag:
			if text, ok := scalarText(n.Value); ok {
				v := c.newValue(String, p)
				v.Str = text
				return v, 1
			}
		case token.NullTag:
			return c.newValue(Null, p), 1
		case token.IntegerTag, token.FloatTag, token.BooleanTag:
			text, ok := scalarText(n.Value)
			if !ok {
				break
			}
			if v := c.castScalar(token.ReservedTagKeyword(name), text, p); v != nil {
				return v, 1
			}
			c.errs.Add(c.file, p, "%s %q is not %s", name, text, map[token.ReservedTagKeyword]string{
				token.IntegerTag: "an integer", token.FloatTag: "a number", token.BooleanTag: "a boolean",
			}[token.ReservedTagKeyword(name)])
			return c.newValue(Null, p), 1
		}
	}
	v, h := c.convert(n.Value, depth)
	// v is never shared (an alias yields a fresh copy), so it can point at
	// the tag, where the written value starts.
	v.Pos = p
	return v, h
}

// scalarText is the text of a scalar as written, without quotes.
func scalarText(n ast.Node) (string, bool) {
	switch n := n.(type) {
	case *ast.NullNode:
		return "", true
	case *ast.LiteralNode:
		if n.Value == nil {
			return "", true
		}
		return n.Value.Value, true
	case *ast.StringNode:
		return n.Value, true
	case ast.ScalarNode:
		if tk := n.GetToken(); tk != nil {
			return tk.Value, true
		}
	}
	return "", false
}

func (c *converter) castScalar(tag token.ReservedTagKeyword, text string, p Pos) *Value {
	clean := strings.ReplaceAll(strings.TrimSpace(text), "_", "")
	switch tag {
	case token.IntegerTag:
		if i, err := strconv.ParseInt(clean, 0, 64); err == nil {
			v := c.newValue(Int, p)
			v.Int = i
			return v
		}
	case token.FloatTag:
		if f, err := strconv.ParseFloat(clean, 64); err == nil {
			v := c.newValue(Float, p)
			v.Float = f
			return v
		}
	case token.BooleanTag:
		b, err := strconv.ParseBool(strings.ToLower(clean))
		if err != nil {
			switch strings.ToLower(clean) {
			case "yes", "on":
				b, err = true, nil
			case "no", "off":
				b, err = false, nil
			}
		}
		if err == nil {
			v := c.newValue(Bool, p)
			v.Bool = b
			return v
		}
	}
	return nil
}

func (c *converter) anchor(n *ast.AnchorNode, depth int) (*Value, int) {
	before := c.count
	v, h := c.convert(n.Value, depth)
	if n.Name != nil {
		if tk := n.Name.GetToken(); tk != nil {
			// Registered only now: an alias inside its own anchor finds
			// nothing (or an older anchor of that name), so no cycle can form.
			c.anchors[tk.Value] = anchorInfo{value: v, size: c.count - before, height: h}
		}
	}
	return v, h
}

// alias reuses the anchored Values but charges their full expanded size, so
// the budget measures what a consumer walking the tree would see.
func (c *converter) alias(n *ast.AliasNode, depth int) (*Value, int) {
	p := tokenPos(n.Start)
	name := ""
	if n.Value != nil {
		if tk := n.Value.GetToken(); tk != nil {
			name = tk.Value
		}
	}
	a, ok := c.anchors[name]
	if !ok {
		c.errs.Add(c.file, p, "alias *%s refers to no anchor defined before it", name)
		return c.newValue(Null, p), 1
	}
	if depth+a.height-1 > maxValueDepth {
		c.errs.Add(c.file, p, "document nests deeper than %d levels once aliases are expanded", maxValueDepth)
		return c.newValue(Null, p), 1
	}
	c.aliasAt = p
	c.charge(a.size)
	// A shallow copy, so that a message about the value itself points at
	// the alias the user wrote here rather than at the anchor. Its cost is
	// in a.size already.
	cp := c.slot()
	*cp = *a.value
	cp.Pos = p
	return cp, a.height
}

func (c *converter) sequence(n *ast.SequenceNode, depth int) (*Value, int) {
	v := c.newValue(List, tokenPos(n.Start))
	v.List = make([]*Value, 0, len(n.Values))
	height := 0
	for _, e := range n.Values {
		ev, h := c.convert(e, depth+1)
		if !ev.Pos.IsValid() {
			ev.Pos = v.Pos
		}
		v.List = append(v.List, ev)
		height = max(height, h)
	}
	return v, height + 1
}

// mapping converts key/value pairs, expanding merge keys ("<<"). Keys
// written in the mapping win over merged ones, and among merged mappings
// the first wins, as YAML's merge key type defines.
func (c *converter) mapping(p Pos, pairs []*ast.MappingValueNode, depth int) (*Value, int) {
	v := c.newValue(Map, p)
	v.Map = make([]*Field, 0, len(pairs))
	height := 0
	var explicit map[string]bool
	hasMerge := false
	for _, mv := range pairs {
		if mv != nil && mv.Key != nil && mv.Key.IsMergeKey() {
			hasMerge = true
		}
	}
	if hasMerge {
		explicit = map[string]bool{}
		for _, mv := range pairs {
			if mv != nil && mv.Key != nil && !mv.Key.IsMergeKey() {
				if k, ok := keyText(mv.Key); ok {
					explicit[k] = true
				}
			}
		}
	}
	var merged map[string]bool
	for _, mv := range pairs {
		if mv == nil || mv.Key == nil {
			continue
		}
		if mv.Key.IsMergeKey() {
			src, h := c.convert(mv.Value, depth+1)
			height = max(height, h)
			if merged == nil {
				merged = map[string]bool{}
			}
			c.merge(v, src, explicit, merged)
			continue
		}
		key, ok := keyText(mv.Key)
		kp := nodePos(mv.Key)
		if !ok {
			c.errs.Add(c.file, kp, "a mapping key must be a plain value, got %s", describeNode(mv.Key))
		}
		fv, h := c.convert(mv.Value, depth+1)
		height = max(height, h)
		if fv.Kind == Null && !fv.Pos.IsValid() {
			fv.Pos = kp // "key:" with nothing after it: point at the key
		}
		v.Map = append(v.Map, c.newField(key, kp, fv))
	}
	return v, height + 1
}

func (c *converter) merge(into, src *Value, explicit, merged map[string]bool) {
	var maps []*Value
	switch src.Kind {
	case Map:
		maps = []*Value{src}
	case List:
		for _, e := range src.List {
			if e.Kind != Map {
				c.errs.Add(c.file, e.Pos, "\"<<\" merges mappings, got %s", e.Kind)
				continue
			}
			maps = append(maps, e)
		}
	default:
		c.errs.Add(c.file, src.Pos, "\"<<\" merges a mapping or a list of mappings, got %s", src.Kind)
		return
	}
	for _, m := range maps {
		for _, f := range m.Map {
			if explicit[f.Key] || merged[f.Key] {
				continue
			}
			merged[f.Key] = true
			into.Map = append(into.Map, f)
		}
	}
}

// keyText is a mapping key as a string; keys like 1 or true are accepted by
// their text, as goccy's decoder does.
func keyText(k ast.MapKeyNode) (string, bool) {
	var n ast.Node = k
	if mk, ok := n.(*ast.MappingKeyNode); ok {
		n = mk.Value
	}
	for {
		switch x := n.(type) {
		case *ast.TagNode:
			n = x.Value
			continue
		case *ast.AnchorNode:
			n = x.Value
			continue
		}
		break
	}
	switch n.(type) {
	case *ast.MappingNode, *ast.SequenceNode, *ast.MappingValueNode, *ast.AliasNode, nil:
		return "", false
	}
	return scalarText(n)
}

func describeNode(n ast.Node) string {
	x := n
	if mk, ok := x.(*ast.MappingKeyNode); ok {
		x = mk.Value
	}
	switch x.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "map"
	case *ast.SequenceNode:
		return "list"
	case *ast.AliasNode:
		return "alias"
	}
	return "complex key"
}
