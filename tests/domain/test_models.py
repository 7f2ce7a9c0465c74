from datetime import UTC, datetime

from instructor_tui.domain.models import Address, Applicant, ApplicantKind, Dossier
from instructor_tui.domain.states import DossierState


def test_departement_from_postcode():
    assert Address("1 rue", "57000", "Metz").departement == "57"
    assert Address("1 rue", "20100", "Ajaccio").departement == "2A"
    assert Address("1 rue", "20200", "Bastia").departement == "2B"
    assert Address("1 rue", "97400", "Saint-Denis").departement == "974"
    assert Address("1 rue", "1000", "Bruxelles", country="BE").departement == ""


def test_summary_carries_the_queue_columns():
    when = datetime(2022, 4, 2, tzinfo=UTC)
    applicant = Applicant(
        ApplicantKind.CRAFTSMAN, "Muller", "Anne", "a@x.fr", "0601020304",
        Address("2 rue Haute", "67000", "Strasbourg"), company_name="Muller Élec",
    )
    dossier = Dossier("d1", "VE-2022-000001", "vehicule-electrique", DossierState.SUBMITTED,
                      applicant, when, when, "v1", requested_cents=500_000)
    summary = dossier.summary()
    assert summary.applicant_name == "Muller Élec (MULLER Anne)"
    assert (summary.city, summary.postcode, summary.requested_cents) == ("Strasbourg", "67000", 500_000)
