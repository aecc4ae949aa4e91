package source

import (
	"path/filepath"
	"strings"
)

// Config is the operator's rules for import files.
type Config struct {
	// LocalDir is the directory local files are read from
	// (ZIMPORT_LOCAL_IMPORT_DIR); empty refuses local files.
	LocalDir string
	// LocalShared lets every instance read every file of LocalDir
	// (ZIMPORT_LOCAL_IMPORT_SHARED); by default an instance reads only its
	// own subdirectory, LocalDir/<instance id>.
	LocalShared bool
	// S3Endpoints are the S3 endpoints requests may name besides AWS's own
	// (ZIMPORT_S3_ALLOWED_ENDPOINTS).
	S3Endpoints AllowList
	// S3Region is the region of S3 requests (ZIMPORT_S3_REGION); a regional
	// AWS endpoint names its own.
	S3Region string
	// S3AllowIMDS lets the default AWS credential chain ask the EC2
	// instance metadata service (ZIMPORT_S3_ALLOW_IMDS); off by default.
	S3AllowIMDS bool
}

// LocalSubdir returns the subdirectory of LocalDir that an instance's
// local paths are relative to: its id, or "" when the directory is shared.
func (c Config) LocalSubdir(instanceID string) (string, error) {
	if c.LocalDir == "" {
		return "", &LocalPathError{"local files are not enabled; the operator sets ZIMPORT_LOCAL_IMPORT_DIR to the directory they may be read from"}
	}
	if c.LocalShared {
		return "", nil
	}
	if instanceID == "" || !filepath.IsLocal(instanceID) || strings.ContainsAny(instanceID, `/\`) {
		return "", &LocalPathError{"this instance cannot have an import directory"}
	}
	return instanceID, nil
}
