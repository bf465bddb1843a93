package velero

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Kill ends the server and every process of its group (plugins) with SIGKILL, as an OOM kill
// or a lost node would end Velero's pod mid-operation, and removes its directory. The server
// is stopped for good: Stop does nothing more, and a new Start runs another one.
func (s *Server) Kill() error {
	s.stopOnce.Do(func() {
		if s.cmd != nil && s.cmd.Process != nil {
			pgid := s.cmd.Process.Pid
			if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
				s.stopErr = fmt.Errorf("kill velero process group %d: %w", pgid, err)
			}
			<-s.exited
		}
		if s.dir != "" {
			if err := os.RemoveAll(s.dir); err != nil && s.stopErr == nil {
				s.stopErr = fmt.Errorf("remove velero server directory: %w", err)
			}
		}
	})
	return s.stopErr
}
