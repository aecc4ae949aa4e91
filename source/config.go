package source

// Config is the operator's rules for import files.
type Config struct {
	// LocalDir is the directory local files are read from
	// (ZIMPORT_LOCAL_IMPORT_DIR); empty refuses local files.
	LocalDir string
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
