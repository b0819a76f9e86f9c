package store

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/skript-dev/skript/value"
)

// wireError is ErrorInfo as JSON, with Data in the codec's tagged form.
type wireError struct {
	Node    string `json:"node"`
	Type    string `json:"type,omitempty"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

// MarshalJSON writes Data through the canonical codec (value.Tagged), so
// durations and times in it come back as they went in.
func (e ErrorInfo) MarshalJSON() ([]byte, error) {
	w := wireError{Node: e.Node, Type: e.Type, Message: e.Message}
	if len(e.Data) > 0 {
		w.Data = value.Tagged(e.Data)
	}
	return json.Marshal(&w)
}

// UnmarshalJSON reads Data back exactly (integers as ints, tags as
// durations and times), whichever decoder the driver used.
func (e *ErrorInfo) UnmarshalJSON(b []byte) error {
	var w struct {
		Node    string          `json:"node"`
		Type    string          `json:"type"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = ErrorInfo{Node: w.Node, Type: w.Type, Message: w.Message}
	if len(w.Data) == 0 || bytes.Equal(w.Data, []byte("null")) {
		return nil
	}
	d, err := value.Unmarshal(w.Data)
	if err != nil {
		return fmt.Errorf("error data: %w", err)
	}
	m, ok := d.(map[string]any)
	if !ok {
		return fmt.Errorf("error data: a %s, not a map", value.TypeName(d))
	}
	e.Data = m
	return nil
}
