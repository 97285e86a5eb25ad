package app

import "fmt"

// profileXsdversie is the UWLR version a vendor profile speaks.
var profileXsdversie = map[string]string{"standard": "2.2", "magister": "2.3", "esis": "2.2", "somtoday": "2.2", "iddink": "2.3"}

func lookupProfile(name string) (string, error) {
	x, ok := profileXsdversie[name]
	if !ok {
		return "", fmt.Errorf("unknown profile %q (have esis, iddink, magister, somtoday, standard)", name)
	}
	return x, nil
}
