package yamlnode

import (
	"errors"
	"reflect"
	"testing"
)

func TestProblems(t *testing.T) {
	p := Problems{File: "convox.yml"}
	if p.Err() != nil || p.Len() != 0 {
		t.Fatal("no problems must mean a nil error")
	}
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
	if !errors.As(p.Err(), &e) || e.File != "convox.yml" || !reflect.DeepEqual(e.Problems, want) {
		t.Fatalf("Err() = %#v, want problems %q", p.Err(), want)
	}
	if e.Error() != want[0]+"\n"+want[1]+"\n"+want[2]+"\n"+want[3] {
		t.Fatalf("Error() = %q", e.Error())
	}
}

func TestProblemsText(t *testing.T) {
	top, err := Parse([]byte("image: busybox\nport: [1, 2]\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := Problems{File: "convox.yml"}
	pairs := p.Pairs("", top)
	if got := p.Text(`service "web"`, pairs[0]); got != "busybox" || p.Len() != 0 {
		t.Errorf("Text(image) = %q with %d problems", got, p.Len())
	}
	if got := p.Text(`service "web"`, pairs[1]); got != "" || p.Len() != 1 {
		t.Errorf("Text(port list) = %q with %d problems, want one problem", got, p.Len())
	}
}
