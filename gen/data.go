package gen

// This file holds the fixed material generated users are made of.

// passwords are the plain passwords of hashes (see Password).
var passwords = [...]string{"Zimport-Gen-1!", "Zimport-Gen-2!", "Zimport-Gen-3!", "Zimport-Gen-4!"}

// hashes are bcrypt hashes (cost 10) of passwords, computed once with
// golang.org/x/crypto/bcrypt; literals keep the output deterministic.
var hashes = [len(passwords)]string{
	"$2a$10$yIbqb5X4wqksKop5qt16ue5I6enhddWhMANLytXR0QEEcRjOWUyHy",
	"$2a$10$H.SErHZ6Do4zqt6nfz8R1.42vNrieaZK700JbH1UwvBpISJCU9Zgy",
	"$2a$10$AEarGU0.TmSzBKZ4J5kjFuM00t5Br1fRs3utpKOla3GejhcR6FRXy",
	"$2a$10$Z.aewvMbD8XUUseZZUu4seX97kPWmXs3dllcLlno0egcGgI8YfuOK",
}

// name is a person's name as shown and as folded to ASCII for e-mail
// addresses.
type name struct {
	text, ascii string
}

// firstName is a first name with the gender (a ZITADEL Gender name) it is
// given with.
type firstName struct {
	name
	gender string
}

var firstNames = []firstName{
	{name{"Anna", "anna"}, "GENDER_FEMALE"},
	{name{"Ben", "ben"}, "GENDER_MALE"},
	{name{"Chloé", "chloe"}, "GENDER_FEMALE"},
	{name{"David", "david"}, "GENDER_MALE"},
	{name{"Elena", "elena"}, "GENDER_FEMALE"},
	{name{"Farid", "farid"}, "GENDER_MALE"},
	{name{"Grace", "grace"}, "GENDER_FEMALE"},
	{name{"Hiroshi", "hiroshi"}, "GENDER_MALE"},
	{name{"Ingrid", "ingrid"}, "GENDER_FEMALE"},
	{name{"José", "jose"}, "GENDER_MALE"},
	{name{"Kwame", "kwame"}, "GENDER_MALE"},
	{name{"Lena", "lena"}, "GENDER_FEMALE"},
	{name{"Łukasz", "lukasz"}, "GENDER_MALE"},
	{name{"Mei", "mei"}, "GENDER_FEMALE"},
	{name{"Noah", "noah"}, "GENDER_MALE"},
	{name{"Olivia", "olivia"}, "GENDER_FEMALE"},
	{name{"Priya", "priya"}, "GENDER_FEMALE"},
	{name{"Quentin", "quentin"}, "GENDER_MALE"},
	{name{"Rosa", "rosa"}, "GENDER_FEMALE"},
	{name{"Søren", "soren"}, "GENDER_MALE"},
	{name{"Tomás", "tomas"}, "GENDER_MALE"},
	{name{"Uma", "uma"}, "GENDER_FEMALE"},
	{name{"Viktor", "viktor"}, "GENDER_MALE"},
	{name{"Wei", "wei"}, "GENDER_MALE"},
	{name{"Ximena", "ximena"}, "GENDER_FEMALE"},
	{name{"Yusuf", "yusuf"}, "GENDER_MALE"},
	{name{"Zoë", "zoe"}, "GENDER_FEMALE"},
	{name{"Alex", "alex"}, "GENDER_DIVERSE"},
	{name{"Robin", "robin"}, "GENDER_DIVERSE"},
	{name{"Sam", "sam"}, "GENDER_UNSPECIFIED"},
}

var lastNames = []name{
	{"Müller", "mueller"}, {"Schmidt", "schmidt"}, {"O'Brien", "obrien"}, {"García", "garcia"},
	{"Rossi", "rossi"}, {"Nguyen", "nguyen"}, {"Kowalski", "kowalski"}, {"Dubois", "dubois"},
	{"Jensen", "jensen"}, {"Tanaka", "tanaka"}, {"Smith", "smith"}, {"Johnson", "johnson"},
	{"Silva", "silva"}, {"Novák", "novak"}, {"Öztürk", "ozturk"}, {"Andersson", "andersson"},
	{"van der Berg", "vanderberg"}, {"Okafor", "okafor"}, {"Kim", "kim"}, {"Patel", "patel"},
	{"Moreau", "moreau"}, {"Fischer", "fischer"}, {"Haddad", "haddad"}, {"Ivanova", "ivanova"},
}

// languages are preferred languages (BCP 47 tags ZITADEL supports).
var languages = []string{"en", "de", "fr", "it", "es", "pt", "pl", "nl", "ja", "zh"}

// phonePrefixes start mobile numbers; seven random digits follow.
var phonePrefixes = []string{"+41 79 ", "+49 151 ", "+33 6 ", "+1 415 ", "+44 7700 ", "+39 347 "}

// orgRoles are the org member roles given, ZITADEL's org roles; ORG_USER_MANAGER
// is listed twice to be the most frequent.
var orgRoles = []string{"ORG_OWNER", "ORG_USER_MANAGER", "ORG_USER_MANAGER", "ORG_OWNER_VIEWER"}

// Metadata keys and the values they get.
var (
	departments = []string{"Engineering", "Sales", "Marketing", "Finance", "Support", "Legal", "Operations"}
	locations   = []string{"Zürich", "Berlin", "Lisbon", "New York", "Tokyo", "São Paulo", "Nairobi"}
)
