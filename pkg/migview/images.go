package migview

import migv1 "github.com/ferrymtc/ferry/api/v1alpha1"

// Image is one image stream of a DirectImageMigration.
type Image struct {
	// Name is NAMESPACE/NAME of the image stream.
	Name string
	// State is Running, Completed or Failed.
	State string
	// Copied and Total count images; Bytes is what was copied.
	Copied, Total int
	Bytes         int64
}

// Percent is the share of the stream's images copied: 100 once Completed.
func (i Image) Percent() int {
	if i.State == Completed {
		return 100
	}
	if i.Total <= 0 {
		return 0
	}
	return min(100, i.Copied*100/i.Total)
}

// ImageRows are the image streams of a DIM: running ones first, then completed, then failed.
func ImageRows(dim migv1.DirectImageMigration) []Image {
	var out []Image
	st := dim.Status
	for _, group := range []struct {
		state string
		items []*migv1.ImageStreamListItem
	}{{Running, st.NewISs}, {Completed, st.SuccessfulISs}, {Failed, st.FailedISs}} {
		for _, item := range group.items {
			if item == nil || item.ObjectReference == nil {
				continue // an item without its stream names nothing to show
			}
			row := Image{Name: item.Namespace + "/" + item.Name, State: group.state}
			if p := item.Progress; p != nil {
				row.Copied, row.Total, row.Bytes = p.CopiedImages, p.TotalImages, p.CopiedBytes
			}
			out = append(out, row)
		}
	}
	return out
}
