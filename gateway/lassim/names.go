package lassim

var (
	firstNames = []string{"Emma", "Noah", "Julia", "Liam", "Mila", "Lucas", "Tess", "Sem", "Sophie", "Finn",
		"Zoë", "Daan", "Sara", "Levi", "Nora", "Luuk", "Evi", "Milan", "Anna", "Bram", "Lotte", "Jesse",
		"Fleur", "Thijs", "Saar", "Sven", "Lieke", "Ruben", "Isa", "Mees", "Fenna", "Jens", "Yara", "Stijn",
		"Femke", "Gijs", "Noor", "Teun", "Maud", "Hugo", "Eva", "Cas", "Roos", "Jayden", "Amira", "Mohammed",
		"Yasmine", "Ayoub", "Lina", "Bilal"}
	lastNames = []string{"Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos", "Peters",
		"Hendriks", "Dekker", "Brouwer", "Dijkstra", "Koster", "Prins", "Huisman", "Kok", "Willems", "Verhoeven",
		"Postma", "Kuipers", "Hoekstra", "Veenstra", "Schouten", "Jacobs", "Maas", "Kramer", "Vermeulen",
		"Boer", "Berg", "Wit", "Graaf", "Jong", "Vries", "Haan", "Groot", "Leeuwen", "Wal", "Heuvel", "Linden",
		"Yılmaz", "El Amrani", "Öztürk", "Nguyen"}
	// prefixes maps surnames that commonly carry a voorvoegsel.
	prefixes = map[string]string{"Boer": "de", "Berg": "van den", "Wit": "de", "Graaf": "de", "Jong": "de",
		"Vries": "de", "Haan": "de", "Groot": "de", "Leeuwen": "van", "Wal": "van der", "Heuvel": "van den",
		"Linden": "van der"}
	compositeNames = []string{"Rekengroep", "Leesclub", "Plusklas", "Taalgroep", "Muziek", "Schaakclub",
		"Techniek", "Dyslexiegroep", "NT2", "Sport"}
	brinLetters = "ABCDEFGHJKLMNPRSTUVWXYZ"
)
