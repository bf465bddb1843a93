package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
)

// volumeFlags are a plan's per-PVC selections, each keyed by the source PVC as NS/NAME.
type volumeFlags struct {
	skip, rename, storageClass, accessMode, copyMethod []string
	verify                                             bool

	// parsed: PVC (NS/NAME) to value.
	skipped                                           map[string]bool
	renames, storageClasses, accessModes, copyMethods map[string]string
}

func (v *volumeFlags) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringSliceVar(&v.skip, "skip-pvc", nil, "leave the PVC NS/NAME out of the migration")
	f.StringSliceVar(&v.rename, "pvc-rename", nil, "NS/NAME:NEWNAME: copy the PVC under a new name on the destination")
	f.StringSliceVar(&v.storageClass, "storage-class", nil, "NS/NAME=CLASS: the destination PVC's storage class")
	f.StringSliceVar(&v.accessMode, "access-mode", nil, "NS/NAME=MODE: the destination PVC's access mode (ReadWriteOnce, ReadWriteMany, ...)")
	f.StringSliceVar(&v.copyMethod, "copy-method", nil, "NS/NAME=METHOD: filesystem, block or snapshot")
	f.BoolVar(&v.verify, "verify", false, "verify every copied file with a checksum")
}

func (v *volumeFlags) empty() bool {
	return len(v.skip)+len(v.rename)+len(v.storageClass)+len(v.accessMode)+len(v.copyMethod) == 0 && !v.verify
}

// parse checks the flags' syntax, before anything is created.
func (v *volumeFlags) parse() error {
	v.skipped = map[string]bool{}
	for _, pvc := range v.skip {
		if err := checkPVC("--skip-pvc", pvc); err != nil {
			return err
		}
		v.skipped[pvc] = true
	}
	var err error
	if v.renames, err = pairs("--pvc-rename", ":", v.rename); err != nil {
		return err
	}
	if v.storageClasses, err = pairs("--storage-class", "=", v.storageClass); err != nil {
		return err
	}
	if v.accessModes, err = pairs("--access-mode", "=", v.accessMode); err != nil {
		return err
	}
	if v.copyMethods, err = pairs("--copy-method", "=", v.copyMethod); err != nil {
		return err
	}
	for pvc, m := range v.copyMethods {
		switch m {
		case migv1.PvFilesystemCopyMethod, migv1.PvBlockCopyMethod, migv1.PvSnapshotCopyMethod:
		default:
			return fmt.Errorf("--copy-method %s=%s: the method is filesystem, block or snapshot", pvc, m)
		}
	}
	return nil
}

// apply puts the selections on the plan's volumes; a PVC that the plan does not hold is an
// error, so that a typo does not silently copy what the user meant to skip.
func (v *volumeFlags) apply(pvs []migv1.PV) error {
	seen := map[string]bool{}
	for i := range pvs {
		pv := &pvs[i]
		source, _, _ := strings.Cut(pv.PVC.Name, ":")
		key := pv.PVC.Namespace + "/" + source
		seen[key] = true
		if v.skipped[key] {
			pv.Selection.Action = migv1.PvSkipAction
		}
		if name, ok := v.renames[key]; ok {
			pv.PVC.Name = source + ":" + name
		}
		if class, ok := v.storageClasses[key]; ok {
			pv.Selection.StorageClass = class
		}
		if mode, ok := v.accessModes[key]; ok {
			pv.Selection.AccessMode = corev1.PersistentVolumeAccessMode(mode)
		}
		if method, ok := v.copyMethods[key]; ok {
			pv.Selection.CopyMethod = method
		}
		if v.verify {
			pv.Selection.Verify = true
		}
	}
	var unknown []string
	for _, m := range []map[string]string{v.renames, v.storageClasses, v.accessModes, v.copyMethods, boolKeys(v.skipped)} {
		for pvc := range m {
			if !seen[pvc] {
				unknown = append(unknown, pvc)
			}
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		known := make([]string, 0, len(seen))
		for k := range seen {
			known = append(known, k)
		}
		sort.Strings(known)
		return fmt.Errorf("the plan has no PVC %s (it has %v)", strings.Join(unknown, ", "), known)
	}
	return nil
}

// pairs parses NS/NAME<sep>VALUE flags.
func pairs(flag, sep string, values []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range values {
		pvc, value, ok := strings.Cut(v, sep)
		if !ok || value == "" {
			return nil, fmt.Errorf("%s %q: expected NS/NAME%sVALUE", flag, v, sep)
		}
		if err := checkPVC(flag, pvc); err != nil {
			return nil, err
		}
		out[pvc] = value
	}
	return out, nil
}

func checkPVC(flag, pvc string) error {
	ns, name, ok := strings.Cut(pvc, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("%s %q: a PVC is NAMESPACE/NAME", flag, pvc)
	}
	return nil
}

func boolKeys(m map[string]bool) map[string]string {
	out := make(map[string]string, len(m))
	for k := range m {
		out[k] = ""
	}
	return out
}

// volumeLine says what a migration of the plan will do with pv.
func volumeLine(pv migv1.PV) string {
	source, dest, renamed := strings.Cut(pv.PVC.Name, ":")
	line := fmt.Sprintf("%s/%s (%s)", pv.PVC.Namespace, source, pv.Capacity.String())
	action := pv.Selection.Action
	if action == "" {
		action = "(no action)"
	}
	line += ": " + action
	if renamed {
		line += " as " + dest
	}
	var details []string
	if pv.Selection.StorageClass != "" {
		details = append(details, "storage class "+pv.Selection.StorageClass)
	}
	if pv.Selection.AccessMode != "" {
		details = append(details, "access mode "+string(pv.Selection.AccessMode))
	}
	if pv.Selection.CopyMethod != "" {
		details = append(details, "copy method "+pv.Selection.CopyMethod)
	}
	if pv.Selection.Verify {
		details = append(details, "verified")
	}
	if len(details) > 0 {
		line += " (" + strings.Join(details, ", ") + ")"
	}
	return line
}

// objects are the items of a typed list.
func objects(list client.ObjectList) []client.Object {
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil
	}
	out := make([]client.Object, 0, len(items))
	for _, item := range items {
		if obj, ok := item.(client.Object); ok {
			out = append(out, obj)
		}
	}
	return out
}
