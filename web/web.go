// Package web holds the embedded templates and static files of the
// dashboard and the sandbox console.
package web

import (
	"embed"
	"html/template"
)

//go:embed templates/*.html static/*
var FS embed.FS

// Templates parses every page template with the shared helpers.
func Templates(funcs template.FuncMap) *template.Template {
	return template.Must(template.New("").Funcs(funcs).ParseFS(FS, "templates/*.html"))
}
