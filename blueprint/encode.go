package blueprint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// wire is the serialized form: the Blueprint's own fields preceded by the
// format version, so a reader can refuse a layout it does not know before
// trusting any other field.
type wire struct {
	Format int `json:"format"`
	*Blueprint
}

// Encode returns the stable serialized form of bp: JSON with a top-level
// "format": Version. The output is deterministic (fields in declaration
// order, map keys sorted), so equal Blueprints encode to equal bytes and
// Hash can be taken over it. HTML escaping is off to keep expressions such
// as `a < b` readable in a store.
func Encode(bp *Blueprint) ([]byte, error) {
	if bp == nil {
		return nil, errors.New("blueprint: encode nil")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(wire{Format: Version, Blueprint: bp}); err != nil {
		return nil, fmt.Errorf("blueprint: encode: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Decode parses a serialized Blueprint and validates it (see Validate). It
// never panics, whatever the input: Blueprints are read back from stores
// shared with other processes. Numbers inside constant values and input
// defaults become int when whole and within int64, float64 otherwise, so
// that integers survive a round trip exactly.
func Decode(data []byte) (*Blueprint, error) {
	var w struct {
		Format *int `json:"format"`
		*Blueprint
	}
	w.Blueprint = new(Blueprint)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("blueprint: decode: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("blueprint: decode: data after the blueprint")
	}
	if w.Format == nil {
		return nil, errors.New("blueprint: decode: no format version")
	}
	if *w.Format != Version {
		return nil, fmt.Errorf("blueprint: decode: format %d, this build reads %d", *w.Format, Version)
	}
	bp := w.Blueprint
	var err error
	for i := range bp.Exprs {
		if bp.Exprs[i].Value, err = numbers(bp.Exprs[i].Value); err != nil {
			return nil, fmt.Errorf("blueprint: decode: expression %d: %w", i, err)
		}
	}
	for i := range bp.Inputs {
		if bp.Inputs[i].Default, err = numbers(bp.Inputs[i].Default); err != nil {
			return nil, fmt.Errorf("blueprint: decode: input %s: %w", bp.Inputs[i].Name, err)
		}
	}
	if err := Validate(bp); err != nil {
		return nil, err
	}
	return bp, nil
}

// numbers replaces every json.Number inside a decoded value by an int or a
// float64, in place for maps and slices.
func numbers(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		return number(string(x))
	case map[string]any:
		for k, e := range x {
			n, err := numbers(e)
			if err != nil {
				return nil, err
			}
			x[k] = n
		}
	case []any:
		for i, e := range x {
			n, err := numbers(e)
			if err != nil {
				return nil, err
			}
			x[i] = n
		}
	}
	return v, nil
}

// number converts one JSON number: whole values that fit int64 become int
// (the type expression results use for integers), others float64.
func number(s string) (any, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return int(i), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("number %s: %w", s, err)
	}
	// 2^63 is exactly representable; anything at or above it does not fit.
	if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
		return int(int64(f)), nil
	}
	return f, nil
}

// UnmarshalJSON reads a node, with Parent -1 when the field is absent (a
// Blueprint serialized before nodes had it): 0 would name node 0.
func (n *Node) UnmarshalJSON(data []byte) error {
	type plain Node // without this method
	p := plain{Parent: -1}
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*n = Node(p)
	return nil
}
