// Command rootfsprobe is the program of TestImageRootfs's image: it prints, as JSON, what a
// container of that image sees of its root file system, and with the argument "write"
// writes to it and to the volume at /out.
package main

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
)

func main() {
	r := map[string]string{"uid": strconv.Itoa(os.Getuid())}
	read := func(key, path string) {
		b, err := os.ReadFile(path)
		if err != nil {
			r[key] = "error: " + err.Error()
			return
		}
		r[key] = strings.TrimSpace(string(b))
	}
	exists := func(key, path string) {
		_, err := os.Stat(path)
		r[key] = strconv.FormatBool(err == nil)
	}
	read("marker", "/data/marker")
	read("hostname", "/etc/hostname")
	read("hosts", "/etc/hosts")
	exists("resolv.conf", "/etc/resolv.conf")
	exists("new-file", "/data/new-file")
	exists("proc", "/proc/self/status")
	exists("dev-null", "/dev/null")
	exists("host-path", os.Getenv("HOST_PATH"))
	if len(os.Args) > 1 && os.Args[1] == "write" {
		for _, f := range []struct{ path, data string }{
			{"/data/marker", "changed by a container"}, {"/data/new-file", "new"}, {"/out/from-the-container", "written"},
		} {
			if err := os.WriteFile(f.path, []byte(f.data), 0o644); err != nil {
				r["write "+f.path] = err.Error()
			}
		}
	}
	_ = json.NewEncoder(os.Stdout).Encode(r)
}
