"""The CSV reader on its own: what it accepts, and the message for each kind of bad file."""

from datetime import date

import pytest

from programmes.member_files import MemberFileError, normalize_code, read_member_file

HEADER = "territoire_id,territoire_nom,code_membre,nom_membre,date_signature,source_layer\n"


def read(text: str, encoding: str = "utf-8"):
    return read_member_file(text.encode(encoding))


def test_reads_rows_with_their_line_numbers_dates_and_names():
    rows = read(HEADER + "pvd-1,Bouillante,97106,Bouillante,2021-05-28,pvd\n\n")
    assert len(rows) == 1
    row = rows[0]
    assert (row.line, row.code, row.member_name) == (2, "97106", "Bouillante")
    assert row.territory_ids == ("pvd-1",) and row.territory_names == ("Bouillante",)
    assert row.signed_on == date(2021, 5, 28)


def test_accepts_a_bom_semicolons_crlf_extra_columns_and_french_dates():
    data = (
        "\ufeffterritoire_id;territoire_nom;code_membre;date_signature;autre\r\n"
        "t-1;Nom;2a004;28/05/2021;x\r\n"
    )
    (row,) = read(data)
    assert row.code == "2A004" and row.signed_on == date(2021, 5, 28)


def test_a_row_naming_several_territories_belongs_to_each():
    (row,) = read(HEADER + "cite-002 ; cite-127,Amiens Nord ; Amiens Étouvie,80021,Amiens,,c\n")
    assert row.territory_ids == ("cite-002", "cite-127")
    assert row.territory_names == ("Amiens Nord", "Amiens Étouvie")


def test_names_that_do_not_split_like_the_ids_are_kept_whole():
    (row,) = read(HEADER + "fs-1; fs-2,France services de Case-Pilote,97205,Case-Pilote,,fs\n")
    assert row.territory_names == ("France services de Case-Pilote",) * 2


@pytest.mark.parametrize(
    ("raw", "code"),
    [("1004", "01004"), (" 80001 ", "80001"), ("2b033", "2B033"), ("200 043 263", "200043263")],
)
def test_codes_are_normalised(raw, code):
    assert normalize_code(raw) == code


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Le fichier est vide."),
        (b"\xef\xbb\xbf \r\n", "Le fichier est vide."),
        (HEADER.encode(), "aucune ligne de données"),
        (b"commune,nom\n80001,Abbeville\n", "Colonnes manquantes : territoire_id"),
        (
            (
                HEADER
                + "acv-1,Abbeville,80001,Abbeville,,acv\nacv-1,Abbeville,80001,Abbeville,,acv\n"
            ).encode(),
            "1 ligne en double",
        ),
        (
            (HEADER + "acv-1,Abbeville,80001,Abbeville,hier,acv\n").encode(),
            "date_signature illisible",
        ),
        ((HEADER + ",Abbeville,80001,Abbeville,,acv\n").encode(), "territoire_id est vide"),
        ((HEADER + "acv-1,Abbeville,,Abbeville,,acv\n").encode(), "code_membre est vide"),
        ((HEADER + "acv-1,Abbeville,80001\n").encode(), "3 valeurs au lieu de 6"),
        (
            (
                HEADER + "ti-1,Béthune,200072460,CA de Béthune-Bruay, Artois-Lys Romane,,ti\n"
            ).encode(),
            "7 valeurs au lieu de 6",
        ),
        (
            b"territoire_id,territoire_id,territoire_nom,code_membre\n",
            "Colonnes en double",
        ),
    ],
    ids=[
        "empty",
        "bom-and-blank",
        "header-only",
        "wrong-columns",
        "duplicate-rows",
        "bad-date",
        "no-territory",
        "no-code",
        "short-row",
        "unquoted-comma",
        "duplicate-column",
    ],
)
def test_bad_files_are_refused_with_a_clear_message(data, message):
    with pytest.raises(MemberFileError) as error:
        read_member_file(data)
    assert message in str(error.value)


def test_latin1_bytes_are_refused_with_the_line_of_the_first_bad_character():
    data = (HEADER + "acv-1,Abbeville,80001,Abbeville,,acv\nacv-2,Alès,30007,Alès,,acv\n").encode(
        "latin-1"
    )
    with pytest.raises(MemberFileError) as error:
        read_member_file(data)
    assert "pas encodé en UTF-8" in error.value.message
    assert "ligne 3" in error.value.message


def test_every_offending_line_is_listed_but_long_lists_are_cut():
    data = HEADER + "".join(f"t-{n},Nom,,x,,l\n" for n in range(30))
    with pytest.raises(MemberFileError) as error:
        read(data)
    assert error.value.message.startswith("30 lignes sont mal formées")
    assert len(error.value.details) == 30
    assert "… et 10 autres" in str(error.value)
