package yamlnode

import (
	"errors"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProblems(t *testing.T) {
	p := Problems{File: "convox.yml"}
	require.NoError(t, p.Err(), "no problems must mean a nil error")
	require.EqualValues(t, 0, p.Len(), "no problems must mean a nil error")
	p.Add("", 0, "is empty")
	p.Add(`service "web"`, 4, "port: %s", "bad")
	p.Unknown(`service "web"`, Pair{Key: "biuld", Line: 3}, []string{"build"})
	p.Field(`service "web"`, Pair{Key: "image", Line: 5}, errors.New("must be text"))
	p.Field(`service "web"`, Pair{Key: "image", Line: 5}, nil)
	want := []string{
		`convox.yml: is empty`,
		`convox.yml: service "web": port: bad (line 4)`,
		`convox.yml: service "web": unknown field "biuld" (line 3), did you mean "build"?`,
		`convox.yml: service "web": image: must be text (line 5)`,
	}
	var e *Error
	require.True(t, errors.As(p.Err(), &e), "Err() = %#v, want problems %q", p.Err(), want)
	require.EqualValues(t, "convox.yml", e.File, "Err() = %#v, want problems %q", p.Err(), want)
	require.True(t, reflect.DeepEqual(e.Problems, want), "Err() = %#v, want problems %q", p.Err(), want)
	require.Equal(t, want[0]+"\n"+want[1]+"\n"+want[2]+"\n"+want[3], e.Error(), "Error()")
}

func TestProblemsText(t *testing.T) {
	top, err := Parse([]byte("image: busybox\nport: [1, 2]\n"))
	require.NoError(t, err)
	p := Problems{File: "convox.yml"}
	pairs := p.Pairs("", top)
	assert.Equal(t, "busybox", p.Text(`service "web"`, pairs[0]), "Text(image)")
	assert.Equal(t, 0, p.Len(), "Text(image) problems")
	got := p.Text(`service "web"`, pairs[1])
	assert.Empty(t, got, "Text(port list) = %q with %d problems, want one problem", got, p.Len())
	assert.EqualValues(t, 1, p.Len(), "Text(port list) = %q with %d problems, want one problem", got, p.Len())
}
