package importdata

import "fmt"

// An entity that an import defines has an id unique in the instance: a
// user, project, project grant, app, app key, action, IdP or machine key.
// Orgs are imported in parallel, so when two orgs of one payload define the
// same id, which of them gets it would be chance; the strict scan of inline
// data refuses such a payload instead. Within one org a repeated id is
// reported entity by entity, in input order. (Org names and verified
// domains are not checked here: an org or domain that exists already is
// listed again without defining anything.)

// definer is an element that defines an id unique in the instance; kind
// names the id's space in messages ("user id"), key is "" when the element
// defines none.
type definer interface {
	definedKey() (kind, key string)
}

func (d DataHumanUser) definedKey() (string, string)       { return "user id", d.UserID }
func (d DataMachineUser) definedKey() (string, string)     { return "user id", d.UserID }
func (d DataProject) definedKey() (string, string)         { return "project id", d.ProjectID }
func (d DataProjectGrant) definedKey() (string, string)    { return "project grant id", d.GrantID }
func (d DataOIDCApplication) definedKey() (string, string) { return "app id", d.AppID }
func (d DataAPIApplication) definedKey() (string, string)  { return "app id", d.AppID }
func (d DataAppKey) definedKey() (string, string)          { return "app key id", d.ID }
func (d DataAction) definedKey() (string, string)          { return "action id", d.ActionID }
func (d DataOIDCIDP) definedKey() (string, string)         { return "IdP id", d.IDPID }
func (d DataJWTIDP) definedKey() (string, string)          { return "IdP id", d.IDPID }
func (d DataMachineKey) definedKey() (string, string)      { return "machine key id", d.KeyID }

// Definition is an id that an element of a payload defines.
type Definition struct {
	// Org is the index of the org the element is in; Path names the element.
	Org  int
	Path string
	// Kind names the id's space ("user id"); Key is the id.
	Kind, Key string
}

// definitionOf returns what v defines, when it is an element that defines
// an id.
func definitionOf(v any) (Definition, bool) {
	d, ok := v.(definer)
	if !ok {
		return Definition{}, false
	}
	kind, key := d.definedKey()
	return Definition{Kind: kind, Key: key}, key != ""
}

// TwiceError is the problem of d, an id that orgs[firstOrg] defined first.
func TwiceError(d Definition, firstOrg int) *ShapeError {
	return &ShapeError{Msg: fmt.Sprintf("%s: %s %q is given in orgs[%d] too; orgs are imported in parallel, so give each once",
		d.Path, d.Kind, d.Key, firstOrg)}
}

// InOrgAt adds to se the byte offset of the org it is in, for a file,
// which cannot be shown to the client.
func InOrgAt(se *ShapeError, start int64) *ShapeError {
	return &ShapeError{Msg: fmt.Sprintf("%s (in the org at byte %d)", se.Msg, start)}
}

// definitions records which org defines each key of a payload.
type definitions map[[2]string]int

// add records that org defines what v defines (when v is a definer), at
// path; it fails when another org defined the same key.
func (ds definitions) add(path string, org int, v any) error {
	d, ok := definitionOf(v)
	if !ok {
		return nil
	}
	d.Org, d.Path = org, path
	k := [2]string{d.Kind, d.Key}
	if first, ok := ds[k]; ok && first != org {
		return TwiceError(d, first)
	} else if !ok {
		ds[k] = org
	}
	return nil
}
