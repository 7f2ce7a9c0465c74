"""French strings of the portal area (see i18n/fr.py)."""

CATALOG: dict[str, str] = {
    "A downloaded document was damaged on the way and has been discarded; try again.": (
        "Un document téléchargé est arrivé abîmé et a été écarté ; réessayez."
    ),
    "Another instructor ({who}) holds this dossier.": "Un autre instructeur ({who}) a pris ce dossier.",
    "Another instructor holds this dossier.": "Un autre instructeur a pris ce dossier.",
    "Applying deletions": "Suppressions",
    "Downloading documents": "Téléchargement des pièces",
    "Downloading dossiers": "Téléchargement des dossiers",
    "No portal URL: set portal_url in the profile or pass --portal.": (
        "Pas d'adresse de portail : renseignez portal_url dans le profil ou passez --portal."
    ),
    "Reading schemes": "Lecture des téléservices",
    "The dossier changed on the portal meanwhile: reload it before deciding.": (
        "Le dossier a changé sur le portail entre-temps : rechargez-le avant de décider."
    ),
    "The portal URL must start with https:// (http:// only for a portal on this machine).": (
        "L'adresse du portail doit commencer par https:// (http:// seulement pour un portail sur cette machine)."
    ),
    "The portal asks to slow down; try again in a moment.": (
        "Le portail demande de ralentir ; réessayez dans un instant."
    ),
    "The portal asks to slow down; try again in {seconds} s.": (
        "Le portail demande de ralentir ; réessayez dans {seconds} s."
    ),
    "The portal cannot be reached: working offline from the local copy.": (
        "Le portail est injoignable : travail hors ligne sur la copie locale."
    ),
    "The portal does not allow this to your account.": (
        "Le portail n'autorise pas cette action à votre compte."
    ),
    "The portal failed to answer properly.": "Le portail n'a pas répondu correctement.",
    "The portal forgot where the last sync stopped; it starts again from the last sync date.": (
        "Le portail a perdu le point de reprise ; la synchronisation repart de la date de la dernière."
    ),
    "The portal no longer has this dossier or document.": "Le portail n'a plus ce dossier ou ce document.",
    "The portal refused the request.": "Le portail a refusé la demande.",
    "The portal refused the request: {detail}": "Le portail a refusé la demande : {detail}",
    "The portal refused the token: enter a new one. Nothing was lost.": (
        "Le portail a refusé le jeton : saisissez-en un nouveau. Rien n'est perdu."
    ),
    "The portal sent an answer this version cannot read.": (
        "Le portail a envoyé une réponse que cette version ne sait pas lire."
    ),
    "The {connector} connector is not available in this version.": (
        "Le connecteur {connector} n'est pas disponible dans cette version."
    ),
    "Unexpected error: {kind}": "Erreur inattendue : {kind}",
    "Up to date": "À jour",
    # Démarches Simplifiées
    "No démarche to follow: set demarches = [number, …] in the profile.": (
        "Aucune démarche à suivre : renseignez demarches = [numéro, …] dans le profil."
    ),
    "Démarches Simplifiées needs your instructor id or e-mail: set instructor_id in the profile.": (
        "Démarches Simplifiées a besoin de votre identifiant ou adresse d'instructeur : renseignez "
        "instructor_id dans le profil."
    ),
}
