package cli

import (
	"fmt"
	"strings"

	units "github.com/docker/go-units"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

func (d describedDIM) title() string {
	return "DirectImageMigration " + descKey(d.Namespace, d.Name)
}

// causes are the errors of the image streams that failed, else the DIM's own errors.
func (d describedDIM) causes() []string {
	if d.Error != "" {
		return []string{d.title() + ": " + d.Error}
	}
	if d.DIM == nil {
		return nil
	}
	var out []string
	for _, is := range d.DIM.Status.FailedISs {
		if is != nil && is.ObjectReference != nil {
			out = append(out, fmt.Sprintf("ImageStream %s: %s", descKey(is.Namespace, is.Name), strings.Join(is.Errors, "; ")))
		}
	}
	if len(out) == 0 {
		for _, e := range d.DIM.Status.Errors {
			out = append(out, d.title()+": "+e)
		}
	}
	return out
}

// descCopyProgress reads "3/5 images, 120MB of 300MB copied", as the operator's progress lines.
func descCopyProgress(p *migv1.ImageCopyProgress) string {
	if p == nil || p.TotalImages == 0 {
		return ""
	}
	out := fmt.Sprintf("%d/%d images, %s of %s copied", p.CopiedImages, p.TotalImages,
		units.HumanSize(float64(p.CopiedBytes)), units.HumanSize(float64(p.TotalBytes)))
	if p.BytesPerSecond > 0 {
		out += ", " + units.HumanSize(float64(p.BytesPerSecond)) + "/s"
	}
	return out
}

// dims writes the migration's DirectImageMigrations.
func (w *descWriter) dims(list []describedDIM) {
	if len(list) == 0 {
		return
	}
	w.blank()
	w.heading(0, "Direct image migrations")
	for _, d := range list {
		w.line(1, d.title()+":")
		if d.Error != "" {
			w.line(2, d.Error)
			continue
		}
		w.dim(d.DIM)
	}
}

// dim writes where a DIM stands and a line per image stream it copies.
func (w *descWriter) dim(dim *migv1.DirectImageMigration) {
	st := dim.Status
	w.fields(2,
		descField{"Itinerary", st.Itinerary},
		descField{"Phase", st.Phase},
		descField{"Started", w.time(st.StartTimestamp)},
		descField{"Progress", descCopyProgress(st.Progress)},
	)
	w.list(2, "Errors", st.Errors)
	w.conditions(2, st.Conditions)
	var rows [][]string
	for _, g := range []struct {
		state string
		list  []*migv1.ImageStreamListItem
	}{{"Running", st.NewISs}, {"Completed", st.SuccessfulISs}, {"Failed", st.FailedISs}, {"Deleted", st.DeletedISs}} {
		for _, is := range g.list {
			if is != nil && is.ObjectReference != nil {
				rows = append(rows, []string{descKey(is.Namespace, is.Name), is.DestNamespace, g.state, descCopyProgress(is.Progress), strings.Join(is.Errors, "; ")})
			}
		}
	}
	if len(rows) > 0 {
		w.heading(2, "Image streams")
		w.table(3, []string{"IMAGESTREAM", "DESTINATION NAMESPACE", "STATE", "PROGRESS", "ERRORS"}, rows)
	}
}
