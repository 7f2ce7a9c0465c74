"""The GraphQL documents the Démarches Simplifiées connector sends, as plain strings.

Every operation is named (the stand-in server of the tests dispatches on the name, and DS's logs
show it) and carries the fragments it uses. `DOCUMENTS` lists them all: the tests validate each one
against DS's public schema with graphql-core, so a field renamed upstream fails a test, not a sync.
"""

from __future__ import annotations

FILE_FIELDS = """
fragment DsFile on File {
  filename
  contentType
  byteSizeBigInt
  checksum
  url
  createdAt
}
"""

CHAMP_FIELDS = """
fragment DsChamp on Champ {
  __typename
  id
  champDescriptorId
  label
  stringValue
  updatedAt
  ... on PieceJustificativeChamp {
    files { ...DsFile }
  }
}
"""

DOSSIER_FIELDS = """
fragment DsDossier on Dossier {
  id
  number
  state
  dateDepot
  dateDerniereModification
  dateDerniereModificationChamps
  dateDerniereModificationAnnotations
  datePassageEnInstruction
  dateTraitement
  dateDerniereCorrectionEnAttente
  motivation
  demarche { number }
  usager { email }
  instructeurs { id email }
  demandeur {
    __typename
    ... on PersonnePhysique { civilite nom prenom email }
    ... on PersonneMorale {
      siret
      address { label streetAddress postalCode cityName countryCode }
      entreprise { raisonSociale nomCommercial }
    }
  }
  champs { ...DsChamp }
  annotations { ...DsChamp }
  messages { id body createdAt email discardedAt correction { reason dateResolution } }
  traitements { id event dateTraitement emailAgentTraitant motivation }
}
""" + CHAMP_FIELDS + FILE_FIELDS

DEMARCHE = """
query DsDemarche($demarche: Int!) {
  demarche(number: $demarche) {
    id
    number
    title
    state
    activeRevision {
      champDescriptors { __typename id label required }
      annotationDescriptors { __typename id label }
    }
    groupeInstructeurs {
      id
      number
      label
      closed
      instructeurs { id email }
    }
  }
}
"""

DOSSIERS = """
query DsDossiers($demarche: Int!, $first: Int!, $after: String, $updatedSince: ISO8601DateTime) {
  demarche(number: $demarche) {
    number
    dossiers(first: $first, after: $after, updatedSince: $updatedSince) {
      pageInfo { hasNextPage endCursor }
      nodes { ...DsDossier }
    }
  }
}
""" + DOSSIER_FIELDS

OPEN_DOSSIERS = """
query DsOpenDossiers($demarche: Int!, $first: Int!, $after: String, $state: DossierState!) {
  demarche(number: $demarche) {
    number
    dossiers(first: $first, after: $after, state: $state) {
      pageInfo { hasNextPage endCursor }
      nodes { number dateDepot instructeurs { id email } }
    }
  }
}
"""

DELETED = """
query DsDeletedDossiers($demarche: Int!, $first: Int!, $after: String, $deletedSince: ISO8601DateTime) {
  demarche(number: $demarche) {
    number
    deletedDossiers(first: $first, after: $after, deletedSince: $deletedSince) {
      pageInfo { hasNextPage endCursor }
      nodes { id number dateSupression reason }
    }
  }
}
"""

DOSSIER = """
query DsDossier($number: Int!) {
  dossier(number: $number) { ...DsDossier }
}
""" + DOSSIER_FIELDS


def _decision_mutation(operation: str, field: str, input_type: str) -> str:
    """A mutation whose payload is `{ dossier, errors }`, the dossier read back in full."""
    return (
        f"mutation {operation}($input: {input_type}!) {{\n"
        f"  {field}(input: $input) {{ dossier {{ ...DsDossier }} errors {{ message }} }}\n"
        "}\n" + DOSSIER_FIELDS
    )


BASCULE_SUIVI = _decision_mutation("DsBasculeSuivi", "dossierBasculeSuivi", "DossierBasculeSuiviInput")
PASSER_EN_INSTRUCTION = _decision_mutation(
    "DsPasserEnInstruction", "dossierPasserEnInstruction", "DossierPasserEnInstructionInput"
)
ACCEPTER = _decision_mutation("DsAccepter", "dossierAccepter", "DossierAccepterInput")
REFUSER = _decision_mutation("DsRefuser", "dossierRefuser", "DossierRefuserInput")
CLASSER_SANS_SUITE = _decision_mutation("DsClasserSansSuite", "dossierClasserSansSuite", "DossierClasserSansSuiteInput")

ENVOYER_MESSAGE = """
mutation DsEnvoyerMessage($input: DossierEnvoyerMessageInput!) {
  dossierEnvoyerMessage(input: $input) {
    message { id createdAt }
    errors { message }
  }
}
"""

# `dossierModifierAnnotations` (the per-type `dossierModifierAnnotationText` & co. are deprecated in
# the schema). Its value is a oneOf keyed by the annotation's type (`text` for TextChampDescriptor,
# `textarea` for TextareaChampDescriptor); DS skips, without an error, an annotation whose id or type
# does not match, so the connector checks that the annotation it wrote comes back.
MODIFIER_ANNOTATIONS = """
mutation DsModifierAnnotations($input: DossierModifierAnnotationsInput!) {
  dossierModifierAnnotations(input: $input) {
    annotations { id label stringValue }
    errors { message }
  }
}
"""

DOCUMENTS: dict[str, str] = {
    "DsDemarche": DEMARCHE,
    "DsDossiers": DOSSIERS,
    "DsOpenDossiers": OPEN_DOSSIERS,
    "DsDeletedDossiers": DELETED,
    "DsDossier": DOSSIER,
    "DsBasculeSuivi": BASCULE_SUIVI,
    "DsPasserEnInstruction": PASSER_EN_INSTRUCTION,
    "DsAccepter": ACCEPTER,
    "DsRefuser": REFUSER,
    "DsClasserSansSuite": CLASSER_SANS_SUITE,
    "DsEnvoyerMessage": ENVOYER_MESSAGE,
    "DsModifierAnnotations": MODIFIER_ANNOTATIONS,
}
"""Operation name → document: everything the connector can send."""
