package compiler

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestShellCommandRefusesTemplates(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{
			name: "an input pasted into the command",
			src: `name: t
inputs: {name: {type: string}}
nodes:
  - id: greet
    kind: Action
    action: shell
    params: {command: "echo hello ${{ input.name }}"}
`,
			want: `t.yaml:7:23: shell.command must not embed ${{ }}: pass the value through env (env: {NAME: "${{ input.name }}"}) and use "$NAME" in the command`,
		},
		{
			name: "inside a function, a constant expression too",
			src: `name: t
functions:
  f:
    params: [dir]
    nodes:
      - {id: ls, kind: Action, action: shell, params: {command: "ls ${{ params.dir }}"}}
      - {id: c, kind: Action, action: shell, params: {command: "echo ${{ 1 + 2 }}"}}
nodes:
  - {id: call, kind: Call, function: f, args: {dir: /tmp}}
`,
			want: `t.yaml:6:65: shell.command must not embed ${{ }}: pass the value through env (env: {DIR: "${{ params.dir }}"}) and use "$DIR" in the command
t.yaml:7:64: shell.command must not embed ${{ }}: pass the value through env (env: {VALUE: "${{ 1 + 2 }}"}) and use "$VALUE" in the command`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, errLines(t, tc.src))
		})
	}
}

func TestShellCommandThroughEnvCompiles(t *testing.T) {
	require.Empty(t, errLines(t, `name: t
inputs: {name: {type: string}}
nodes:
  - id: greet
    kind: Action
    action: shell
    params:
      command: 'echo "hello $NAME"'
      env: {NAME: "${{ input.name }}"}
  - {id: argv, kind: Action, action: shell, params: {args: [echo, "${{ input.name }}"]}}
`))
}
