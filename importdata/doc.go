// Package importdata is ZITADEL's import data model (ImportDataRequest, the v2
// DataOrg and its nested messages) with proto3-JSON decoding, streaming
// scanning of large files, and the field validation rules of the reference.
package importdata
