package main

import (
	"bytes"
	"encoding/xml"
	"testing"
)

// TestIconIsSVG: the icon is well-formed SVG, as its media type in the CSV says.
func TestIconIsSVG(t *testing.T) {
	var root struct {
		XMLName xml.Name
		ViewBox string `xml:"viewBox,attr"`
	}
	dec := xml.NewDecoder(bytes.NewReader(icon))
	if err := dec.Decode(&root); err != nil {
		t.Fatal(err)
	}
	if root.XMLName.Local != "svg" || root.XMLName.Space != "http://www.w3.org/2000/svg" || root.ViewBox == "" {
		t.Errorf("root element %v with viewBox %q, want an svg element with a viewBox", root.XMLName, root.ViewBox)
	}
}
