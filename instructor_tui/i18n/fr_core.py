"""French strings of the core area: command line, settings, credentials (see i18n/fr.py)."""

CATALOG: dict[str, str] = {
    # Command line
    "Keyboard-driven workstation for instructing grant applications.":
        "Poste de travail au clavier pour l'instruction des demandes d'aide.",
    "No token for profile '{profile}' and no terminal to ask for one.":
        "Aucun jeton pour le profil « {profile} » et aucun terminal pour le demander.",
    "No token given.": "Aucun jeton saisi.",
    "No token stored for profile '{profile}' (run 'instructor-tui login' to save one).":
        "Aucun jeton enregistré pour le profil « {profile} » "
        "(lancez « instructor-tui login » pour l'enregistrer).",
    "No token was stored for profile '{profile}'.": "Aucun jeton n'était enregistré pour le profil « {profile} ».",
    "Portal token for profile '{profile}' (not echoed): ":
        "Jeton du portail pour le profil « {profile} » (saisie masquée) : ",
    "Settings file {file}, key '{key}': expected {expected}.":
        "Fichier de réglages {file}, clé « {key} » : attendu {expected}.",
    "The local database of profile '{profile}' cannot be opened: {reason}":
        "La base locale du profil « {profile} » ne peut pas être ouverte : {reason}",
    "The token cannot be saved; the app will ask for it at each start.":
        "Le jeton ne peut pas être enregistré ; l'application le demandera à chaque démarrage.",
    "The token is kept in memory for this session only.":
        "Le jeton est gardé en mémoire pour cette session uniquement.",
    "Token removed for profile '{profile}'.": "Jeton supprimé pour le profil « {profile} ».",
    "Token saved in the system keyring for profile '{profile}'.":
        "Jeton enregistré dans le trousseau du système pour le profil « {profile} ».",
    "open the workstation (the default)": "ouvrir le poste de travail (par défaut)",
    "print where settings, data and cache live": "afficher l'emplacement des réglages, données et cache",
    "profile to use": "profil à utiliser",
    "profile to use (default: the settings' default_profile)":
        "profil à utiliser (par défaut : default_profile des réglages)",
    "remove the portal token of a profile from the keyring": "supprimer du trousseau le jeton d'un profil",
    "save the portal token of a profile in the system keyring":
        "enregistrer le jeton du portail d'un profil dans le trousseau du système",
    "First start: generating {dossiers} demo dossiers…":
        "Premier démarrage : génération de {dossiers} dossiers de démonstration…",
    "Reference portal on http://{host}:{port} ({dossiers} dossiers, seed {seed}); Ctrl+C stops it.":
        "Portail de référence sur http://{host}:{port} ({dossiers} dossiers, graine {seed}) ; "
        "Ctrl+C pour l'arrêter.",
    "Sync done: {upserted} dossiers updated, {deleted} removed, in {seconds} s.":
        "Synchronisation terminée : {upserted} dossiers mis à jour, {deleted} supprimés, en {seconds} s.",
    "The demo portal did not answer in time.": "Le portail de démonstration n'a pas répondu à temps.",
    "The demo portal stopped at start (see {log}).":
        "Le portail de démonstration s'est arrêté au démarrage (voir {log}).",
    "The demo portal could not be synced.": "Le portail de démonstration n'a pas pu être synchronisé.",
    "address to listen on": "adresse d'écoute",
    "demo token to sign in with": "jeton de démonstration utilisé pour se connecter",
    "number of demo dossiers": "nombre de dossiers de démonstration",
    "open the app on the embedded demo portal (real HTTP on loopback)":
        "ouvrir l'application sur le portail de démonstration intégré (HTTP réel en local)",
    "port to listen on": "port d'écoute",
    "portal URL (instead of the profile's)": "URL du portail (au lieu de celle du profil)",
    "pull the profile's dossiers from the portal into the local cache":
        "récupérer les dossiers du profil depuis le portail dans le cache local",
    "seed of the demo data": "graine des données de démonstration",
    "serve the reference portal (Portal API v1)": "servir le portail de référence (Portal API v1)",
    "simulated colleagues decide dossiers meanwhile": "des collègues simulés instruisent des dossiers en parallèle",
    "the portal's database file": "fichier de base de données du portail",
    "the reference portal": "le portail de référence",
    "Read-only mode: your role is team lead. Decisions, claims and tags are disabled.":
        "Mode lecture seule : votre rôle est responsable d'équipe. Décisions, prises en charge et "
        "sélections sont désactivées.",
    "Profile: switch to {name}": "Profil : passer à {name}",
    "Reopen the workstation on this profile (its own portal, token and database)":
        "Rouvrir le poste de travail sur ce profil (son portail, son jeton et sa base)",
    "Unknown binding ids in the keymap of the settings: {ids}":
        "Identifiants de raccourcis inconnus dans le keymap des réglages : {ids}",
    # Doctor
    "(the damaged cache was set aside and rebuilt)": "(le cache endommagé a été mis de côté et reconstruit)",
    "Check the network, a proxy or the portal's status; the app still works offline.":
        "Vérifiez le réseau, un éventuel proxy ou l'état du portail ; l'application fonctionne hors ligne.",
    "Check the profile's database_url, the server and your rights; a damaged local cache is rebuilt by itself, "
    "a damaged journal is kept for you to restore from a backup.":
        "Vérifiez database_url dans le profil, le serveur et vos droits ; un cache local endommagé se reconstruit "
        "seul, un journal endommagé est conservé pour être restauré depuis une sauvegarde.",
    "Colours": "Couleurs",
    "Correct the file, or move it aside to start from the defaults.":
        "Corrigez le fichier, ou déplacez-le pour repartir des réglages par défaut.",
    "Database": "Base de données",
    "Enlarge the window to at least 80 columns by 24 lines.":
        "Agrandissez la fenêtre à au moins 80 colonnes sur 24 lignes.",
    "Fix portal_url in the profile.": "Corrigez portal_url dans le profil.",
    "Graphics": "Graphismes",
    "If the token was refused, run 'instructor-tui login' again.":
        "Si le jeton a été refusé, relancez « instructor-tui login ».",
    "Keyring": "Trousseau",
    "Profile": "Profil",
    "Run 'instructor-tui login' (or set INSTRUCTOR_TUI_TOKEN for automation).":
        "Lancez « instructor-tui login » (ou définissez INSTRUCTOR_TUI_TOKEN pour l'automatisation).",
    "Settings": "Réglages",
    "Terminal size": "Taille du terminal",
    "Tokens will be asked for at each start and kept in memory only. Install and unlock a keyring (GNOME Keyring, "
    "KWallet, macOS Keychain, Windows Credential Manager) to keep them.":
        "Le jeton sera demandé à chaque démarrage et gardé en mémoire seulement. Installez et déverrouillez un "
        "trousseau (GNOME Trousseau, KWallet, Trousseau macOS, Gestionnaire d'identification Windows) pour le garder.",
    "Use a terminal with 256 colours or true colour (TERM=xterm-256color).":
        "Utilisez un terminal en 256 couleurs ou en couleurs réelles (TERM=xterm-256color).",
    "check the keyring, database, portal, token and terminal, and say what to do":
        "vérifier le trousseau, la base, le portail, le jeton et le terminal, et dire quoi faire",
    "no answer in {seconds} s": "pas de réponse en {seconds} s",
    "no file at {path}: defaults (demo profile)": "aucun fichier en {path} : réglages par défaut (profil demo)",
    "no portal URL in this profile: the app works on its cache only":
        "pas d'URL de portail dans ce profil : l'application travaille sur son cache seulement",
    "no token stored for this profile": "aucun jeton enregistré pour ce profil",
    "reached; signed in as {user} (roles: {roles})": "joignable ; connecté en tant que {user} (rôles : {roles})",
    "{file}, key '{key}': expected {expected}": "{file}, clé « {key} » : attendu {expected}",
    "{protocol}: pictures at full resolution": "{protocol} : images en pleine résolution",
    "{protocol}: pictures drawn with character cells; PDF text is shown first":
        "{protocol} : images dessinées en caractères ; le texte des PDF est affiché d'abord",
    "{where}: {count} dossiers in cache": "{where} : {count} dossiers en cache",
    # Credentials
    "No keyring is available on this system.": "Aucun trousseau n'est disponible sur ce système.",
    "The keyring backend {backend} keeps secrets in a plain file: it is refused.":
        "Le trousseau {backend} garde les secrets dans un fichier en clair : il est refusé.",
    "The keyring refused the request ({kind}); it may be locked.":
        "Le trousseau a refusé la demande ({kind}) ; il est peut-être verrouillé.",
    # Settings: what was expected
    "UTF-8 text": "du texte UTF-8",
    "a known key (this one does not exist; check its spelling)":
        "une clé connue (celle-ci n'existe pas ; vérifiez l'orthographe)",
    "a list": "une liste",
    "a number": "un nombre",
    "a number of at least {ge}": "un nombre supérieur ou égal à {ge}",
    "a number of at most {le}": "un nombre inférieur ou égal à {le}",
    "a readable file ({reason})": "un fichier lisible ({reason})",
    "a table": "une table",
    "a text in quotes": "un texte entre guillemets",
    "a valid value ({reason})": "une valeur valide ({reason})",
    "a whole number": "un nombre entier",
    "an existing profile (known: {known})": "un profil existant (connus : {known})",
    "one of {expected}": "l'une des valeurs {expected}",
    "true or false": "true ou false",
    "valid TOML ({reason})": "du TOML valide ({reason})",
    # Domain: calls
    "Choose the outcome of the call.": "Choisissez l'issue de l'appel.",
    "Choose the reason of the call.": "Choisissez le motif de l'appel.",
    "Give the time of the callback.": "Indiquez l'heure du rappel.",
    "The call ends before it starts.": "L'appel se termine avant d'avoir commencé.",
    "The callback time is in the past.": "L'heure de rappel est déjà passée.",
    "This is not a phone number.": "Ce n'est pas un numéro de téléphone.",
    "This number does not exist in the numbering plan.": "Ce numéro n'existe pas dans le plan de numérotation.",
    "This number is too long.": "Ce numéro est trop long.",
    "This number is too short.": "Ce numéro est trop court.",
    "Write a short summary of the call.": "Rédigez un court résumé de l'appel.",
    # Domain: checklist
    "Address outside France or postcode unreadable": "Adresse hors de France ou code postal illisible",
    "All documents reviewed and valid": "Toutes les pièces vérifiées et valides",
    "Already granted: {numbers}": "Aide déjà attribuée : {numbers}",
    "Another request is open: {numbers}": "Autre demande en cours : {numbers}",
    "Checksum and format are correct": "Clé de contrôle et format corrects",
    "Checksum is correct": "Clé de contrôle correcte",
    "Declared in the request": "Déclaré dans la demande",
    "Département {dep}": "Département {dep}",
    "Département {dep} is outside the Region": "Le département {dep} est hors de la Région",
    "Invalid SIRET checksum or length": "SIRET invalide (clé de contrôle ou longueur)",
    "Invalid checksum or format": "Clé de contrôle ou format invalide",
    "Maximum price": "Prix maximal",
    "Minimum eligible cost": "Dépense éligible minimale",
    "Minimum value": "Valeur minimale",
    "Missing: {missing}; invalid: {invalid}": "Manquantes : {missing} ; non conformes : {invalid}",
    "No": "Non",
    "No IBAN given": "Aucun IBAN fourni",
    "No SIRET given": "Aucun SIRET fourni",
    "No amount in the request": "Aucun montant dans la demande",
    "No other grant for this household": "Aucune autre aide pour ce foyer",
    "No readable date in the request": "Aucune date lisible dans la demande",
    "Not given in the request": "Non renseigné dans la demande",
    "One grant per household": "Une aide par foyer",
    "Other dossiers of the household not searched": "Autres dossiers du foyer non recherchés",
    "Purchase date within the scheme's window": "Date d'achat dans la période du dispositif",
    "Required documents": "Pièces justificatives",
    "Residence in the Region": "Résidence dans la Région",
    "Rule {kind}": "Règle {kind}",
    "This rule is not known to this version: check it by hand":
        "Règle inconnue de cette version : à vérifier manuellement",
    "To review: {documents}": "À vérifier : {documents}",
    "Valid IBAN": "IBAN valide",
    "Valid SIRET": "SIRET valide",
    "Yes": "Oui",
    "{value} for a maximum of {maximum}": "{value} pour un maximum de {maximum}",
    "{value} for a minimum of {minimum}": "{value} pour un minimum de {minimum}",
    "{value} is outside {start} – {end}": "{value} hors de la période du {start} au {end}",
    "{value} is within {start} – {end}": "{value} dans la période du {start} au {end}",
    # Domain: amounts
    "Capped at {cap}": "Plafonné à {cap}",
    "Eligible cost below the minimum of {minimum}: no grant":
        "Dépense éligible inférieure au minimum de {minimum} : pas d'aide",
    "Eligible cost: {base}": "Dépense éligible : {base}",
    "No amount rule for this scheme: the amount is typed at approval, or left out":
        "Aucune règle de montant pour ce dispositif : le montant est saisi à l'attribution, ou omis",
    "An amount is needed: the scheme's rule proposes one":
        "Un montant est nécessaire : la règle du dispositif en propose un",
    "No tax income: the scheme's default rate applies":
        "Revenu fiscal inconnu : le taux par défaut du dispositif s'applique",
    "Tax income {income} ≤ {ceiling}": "Revenu fiscal de référence {income} ≤ {ceiling}",
    "Tax income {income}: top bracket": "Revenu fiscal de référence {income} : tranche supérieure",
    "{rate} % × {base} = {raw}": "{rate} % × {base} = {raw}",
    # Decisions
    "Decision sent to the portal.": "Décision transmise au portail.",
    "Notes written to the portal.": "Notes écrites sur le portail.",
    "The portal asks to slow down: the notes will be written later.":
        "Le portail demande de ralentir : les notes y seront écrites plus tard.",
    "The portal cannot be reached: the notes will be written when it is back.":
        "Le portail est injoignable : les notes y seront écrites dès son retour.",
    "The portal does not allow this account to write notes on this dossier.":
        "Le portail n'autorise pas ce compte à écrire des notes sur ce dossier.",
    "The portal failed to answer properly: the notes will be written again later.":
        "Le portail n'a pas répondu correctement : les notes y seront écrites plus tard.",
    "The portal has no text annotation “{name}” to hold the notes: check notes_annotation in the profile.":
        "Le portail n'a pas d'annotation privée de type texte « {name} » pour recevoir les notes : vérifiez "
        "notes_annotation dans le profil.",
    "The portal no longer has this dossier: the notes stay on this workstation.":
        "Le portail n'a plus ce dossier : les notes restent sur ce poste.",
    "The portal refused the notes: {detail}": "Le portail a refusé les notes : {detail}",
    "The portal refused the token: the notes will be written once a new one is entered.":
        "Le portail a refusé le jeton : les notes y seront écrites dès qu'un nouveau jeton sera saisi.",
    "This portal connection does not keep notes: they stay on this workstation.":
        "Ce portail ne reçoit pas les notes : elles restent sur ce poste.",
    "Not sent: the dossier changed on the portal meanwhile. Decide again.":
        "Non transmise : le dossier a changé sur le portail entre-temps. Décidez à nouveau.",
    "Not sent: {holder} holds this dossier now. Decide again.":
        "Non transmise : {holder} a maintenant ce dossier en charge. Décidez à nouveau.",
    "The amount must be greater than zero": "Le montant doit être supérieur à zéro",
    "The eligible cost {base} is below the scheme's minimum":
        "La dépense éligible {base} est inférieure au minimum du dispositif",
    "The portal asks to slow down: the decision will be sent later.":
        "Le portail demande de ralentir : la décision sera transmise plus tard.",
    "The portal cannot be reached: the decision will be sent when it is back.":
        "Le portail est injoignable : la décision sera transmise dès son retour.",
    "The portal does not allow this account to decide this dossier.":
        "Le portail n'autorise pas ce compte à décider sur ce dossier.",
    "The portal failed to answer properly: the decision will be sent again later.":
        "Le portail n'a pas répondu correctement : la décision sera transmise à nouveau plus tard.",
    "The portal no longer has this dossier: the decision was not sent.":
        "Le portail n'a plus ce dossier : la décision n'a pas été transmise.",
    "The portal refused the decision: {detail}": "Le portail a refusé la décision : {detail}",
    "The portal refused the token: the decision will be sent once a new one is entered.":
        "Le portail a refusé le jeton : la décision sera transmise dès qu'un nouveau jeton sera saisi.",
    "{amount} is above the cap of {cap} (override)": "{amount} dépasse le plafond de {cap} (dérogation)",
    "{amount} is above the cap of {cap}: an explicit override is needed":
        "{amount} dépasse le plafond de {cap} : une dérogation explicite est nécessaire",
    "{amount} is more than the proposed {proposed}": "{amount} dépasse le montant proposé de {proposed}",
    # Store
    "Cannot connect to the database server {where}: {reason}":
        "Impossible de se connecter au serveur de base de données {where} : {reason}",
    "Cannot open the database file {path}: {reason}":
        "Impossible d'ouvrir le fichier de base de données {path} : {reason}",
    "The file {path} is not a database or is damaged; restore it from a backup or choose another file.":
        "Le fichier {path} n'est pas une base de données ou il est endommagé ; restaurez-le à partir "
        "d'une sauvegarde ou choisissez un autre fichier.",
    "Permission denied on the database {where}.": "Accès refusé à la base de données {where}.",
    "The database {where} has schema version {found}, newer than this program knows ({known}); "
    "update instructor-tui.":
        "La base de données {where} est en version de schéma {found}, plus récente que celle que connaît "
        "ce programme ({known}) ; veuillez mettre à jour instructor-tui.",
    "The local cache {where} was written by a newer version of instructor-tui (cache version {found}, "
    "this program knows {known}); update instructor-tui.":
        "Le cache local {where} a été écrit par une version plus récente d'instructor-tui (version de "
        "cache {found}, ce programme connaît la version {known}) ; veuillez mettre à jour instructor-tui.",
    "The database {where} has an unreadable schema version table: {reason}":
        "La table des versions de schéma de la base de données {where} est illisible : {reason}",
    "Updating the database {where} to schema version {version} failed: {reason}":
        "La mise à jour de la base de données {where} vers la version de schéma {version} a échoué : {reason}",
    "Unsupported database URL {where}: use sqlite:///path or postgresql+psycopg://…":
        "Adresse de base de données non prise en charge {where} : utilisez sqlite:///chemin ou "
        "postgresql+psycopg://…",
    "The database {where} failed: {reason}": "Erreur de la base de données {where} : {reason}",
    "The local cache was damaged and has been rebuilt; it is being refilled from the portal.":
        "Le cache local était endommagé et a été reconstruit ; il est en cours de rechargement depuis le portail.",
    # Statistics (the `stats` command)
    "'{text}' is not a date like 2023-09-30": "« {text} » n'est pas une date comme 2023-09-30",
    "Day": "Jour",
    "Decisions per day": "Décisions par jour",
    "Per-agent figures left out: the portal did not confirm your role.":
        "Chiffres par agent omis : le portail n'a pas confirmé votre rôle.",
    "State": "État",
    "count decisions and calls before this day (YYYY-MM-DD, Paris time)":
        "compter les décisions et les appels avant ce jour (AAAA-MM-JJ, heure de Paris)",
    "count decisions and calls from this day on (YYYY-MM-DD, Paris time)":
        "compter les décisions et les appels à partir de ce jour (AAAA-MM-JJ, heure de Paris)",
    "only the dossiers of this scheme": "seulement les dossiers de ce dispositif",
    "output format (default: table)": "format de sortie (par défaut : table)",
    "print the team statistics (backlog, decisions, calls)":
        "afficher les statistiques de l'équipe (stock, décisions, appels)",
    # Maintenance (purge, audit export) and the store's disk-full / busy messages
    "The disk holding the database {where} is full: nothing was written; free some space and try again.":
        "Le disque de la base de données {where} est plein : rien n'a été écrit ; libérez de la place et "
        "réessayez.",
    "The database {where} is busy (another program holds it): nothing was written; try again in a moment.":
        "La base de données {where} est occupée (un autre programme la tient) : rien n'a été écrit ; "
        "réessayez dans un instant.",
    "delete the personal data of closed dossiers not updated for a number of days":
        "supprimer les données personnelles des dossiers clos non mis à jour depuis un nombre de jours",
    "only dossiers not updated on the portal for this many days":
        "seulement les dossiers non mis à jour sur le portail depuis ce nombre de jours",
    "say what would be deleted, delete nothing": "dire ce qui serait supprimé, sans rien supprimer",
    "export local records": "exporter des enregistrements locaux",
    "write the audit trail (JSON lines) with its hash chain":
        "écrire le journal d'audit (lignes JSON) avec sa chaîne d'empreintes",
    "file to write (default: standard output)": "fichier à écrire (par défaut : la sortie standard)",
    "check an exported file instead of exporting": "vérifier un fichier exporté au lieu d'exporter",
    "'{text}' is not a number of days": "« {text} » n'est pas un nombre de jours",
    "Would purge {dossiers} dossier(s): {attachments} downloaded attachment(s), {files} file(s), {notes} note(s).":
        "Seraient purgés : {dossiers} dossier(s), {attachments} pièce(s) jointe(s) téléchargée(s), {files} fichier(s), "
        "{notes} note(s).",
    "Purged {dossiers} dossier(s): {attachments} downloaded attachment(s), {files} file(s), {notes} note(s).":
        "Purgés : {dossiers} dossier(s), {attachments} pièce(s) jointe(s) téléchargée(s), {files} fichier(s), "
        "{notes} note(s).",
    "Kept {count} dossier(s) whose decision is still waiting to be sent.":
        "{count} dossier(s) conservé(s) : leur décision attend encore d'être envoyée.",
    "Cannot read {file}: {reason}": "Impossible de lire {file} : {reason}",
    "Cannot write {file}: {reason}": "Impossible d'écrire {file} : {reason}",
    "The audit export {file} is intact.": "L'export d'audit {file} est intact.",
    "The audit export {file} was altered: the chain breaks at line {line}.":
        "L'export d'audit {file} a été modifié : la chaîne est rompue à la ligne {line}.",
    "{count} audit event(s) written to {file}.": "{count} événement(s) d'audit écrit(s) dans {file}.",
}
