package params

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParametersDocMatchesTheCatalogue: docs/PARAMETERS.md documents every
// parameter, in catalogue order, with the catalogue's default, allowed values,
// group and description, and nothing the catalogue does not have.
func TestParametersDocMatchesTheCatalogue(t *testing.T) {
	data, err := os.ReadFile("../../docs/PARAMETERS.md")
	require.NoError(t, err)
	sections := strings.Split(string(data), "\n## ")[1:]
	require.Len(t, sections, len(All()), "one section per parameter")
	for i, p := range All() {
		s := sections[i]
		name, body, _ := strings.Cut(s, "\n")
		assert.Equal(t, p.Name, name, "section %d", i)
		lead, _, _ := strings.Cut(strings.TrimSpace(body), "\n\n")
		lead = strings.Join(strings.Fields(strings.ReplaceAll(lead, "`", "")), " ")
		assert.Equal(t, p.Description+".", lead, "%s: the catalogue's description leads its section", p.Name)
		def := "empty"
		if p.Default != "" {
			def = "`" + p.Default + "`"
		}
		allowed := ""
		switch p.Kind {
		case KindEnum:
			var quoted []string
			for _, a := range p.Allowed {
				quoted = append(quoted, "`"+a+"`")
			}
			allowed = strings.Join(quoted, ", ")
		case KindInt:
			allowed = fmt.Sprintf("`%d` to `%d`", p.Min, p.Max)
		}
		where := []string{}
		if p.Template {
			where = append(where, "AWS")
		}
		if p.Local {
			where = append(where, "local")
		}
		row := fmt.Sprintf("| %s | %s", def, allowed)
		assert.Contains(t, body, row, "%s: default and allowed values", p.Name)
		assert.Contains(t, body, fmt.Sprintf("| %s | %s |", p.Group, strings.Join(where, ", ")), "%s: group and where", p.Name)
	}
}
