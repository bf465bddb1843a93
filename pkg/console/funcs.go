package console

import (
	"html/template"
	"strings"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

var funcs = template.FuncMap{
	// shownConditions are the conditions worth a line: those that are true (MTC sets False
	// only on Ready, which the badge shows).
	"shownConditions": func(list migv1.Conditions) []migv1.Condition {
		var out []migv1.Condition
		for _, c := range list {
			if c.Status == migv1.True && c.Type != migv1.Ready {
				out = append(out, c)
			}
		}
		return out
	},
	// severity is the CSS class of a condition: bad (blocks), warn, or info.
	"severity": func(c migv1.Condition) string {
		switch {
		case conditions.IsBlocker(c):
			return "bad"
		case c.Category == migv1.CategoryWarn:
			return "warn"
		}
		return "info"
	},
	"lower":     strings.ToLower,
	"pvcName":   pvcName,
	"pvcRename": pvcRename,
	"form": func(form map[string]string, key string) string {
		return form[key]
	},
	"inList": contains,
	"stepClass": func(state string) string {
		if state == "" {
			return "pending"
		}
		return strings.ToLower(state)
	},
	"stepLabel": func(state string) string {
		if state == "" {
			return "pending"
		}
		return state
	},
}
