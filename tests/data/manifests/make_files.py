"""Re-create the small manifests in this directory (run from anywhere: `python make_files.py`).

Each file shows one thing a real export does; tests/test_manifest.py reads them.
"""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from pathlib import Path

import openpyxl

HERE = Path(__file__).parent


def png_bytes() -> bytes:
    """A real 1x1 PNG image (what a user gets when a picture is renamed to .csv)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def main() -> None:
    (HERE / "basic.csv").write_text(
        "Line No,Goods Description,CAS No.,HS Code,Qty,UoM,Country of Origin,Consignee\n"
        "10,Acetone,67-64-1,2914110000,200,L,DE,Acme Ltd\n"
        '11,"Toluene, technical grade",108-88-3,2902300000,1.5,t,NL,"Beta ""B"" GmbH"\n'
        '12,"Piperonal\n(heliotropin)",120-57-0,2932930000,25,kg,CN,Gamma SA\n',
        encoding="utf-8",
        newline="",
    )
    (HERE / "european_cp1252.csv").write_bytes(
        "Pos.;Warenbezeichnung;CAS-Nummer;Menge;Einheit;Ursprungsland\r\n"
        "1;Essigsäureanhydrid;108-24-7;1,5;kg;DE\r\n"
        "2;Kaliumpermanganat;7722-64-7;1.200,50;kg;IN\r\n"
        "3;Aceton;67-64-1;200;l;FR\r\n".encode("cp1252")
    )
    (HERE / "bom_utf8.csv").write_bytes(
        b"\xef\xbb\xbf" + "CAS,Product,Quantity\n67-64-1,Acétone,5 kg\n".encode()
    )
    (HERE / "utf16le.tsv").write_bytes(
        "Item No\tDescription\tCAS\tNet Weight (kg)\r\n"
        "A1\tEphedrine hydrochloride\t50-98-6\t12\r\n"
        "A2\tΕφεδρίνη\t299-42-3\t3\r\n".encode("utf-16")
    )
    (HERE / "tabs.txt").write_text(
        "description\tcas\tsmiles\nSafrole\t94-59-7\tC=CCc1ccc2OCOc2c1\n", encoding="utf-8"
    )
    (HERE / "pipes.csv").write_text(
        "commodity|commodity code|amount\nPhenylacetic acid|2916340000|100\n", encoding="utf-8"
    )
    (HERE / "preamble.csv").write_text(
        "Export declaration 2024-11-02\n"
        "Shipper: ACME Chemicals\n"
        "\n"
        "line,name,cas rn,quantity,unit\n"
        "1,Piperidine,110-89-4,10,kg\n",
        encoding="utf-8",
    )
    (HERE / "ragged.csv").write_text(
        "line,description,cas,quantity\n"
        "1,Acetone,67-64-1,200\n"
        "2,Toluene,108-88-3\n"
        "3,Methyl ethyl ketone,78-93-3,50,kg,extra\n"
        "4,Sulphuric acid,7664-93-9,10\n",
        encoding="utf-8",
    )
    (HERE / "dirty.csv").write_bytes(
        "line,description,cas\n"
        "1,Acet\u200bone,67-64-1\n"
        "2,Tolu\x00ene,108-88-3\n"
        "3,\u202eenotecA,67-64-1\n"
        "4,Safrole,94-59-7\n".encode()
    )
    (HERE / "duplicates.csv").write_text(
        "line_id,description\nA,Acetone\nB,Toluene\nA,Acetone again\n,No id\n,No id either\n",
        encoding="utf-8",
    )
    (HERE / "header_only.csv").write_text("Description,CAS,Quantity\n", encoding="utf-8")
    (HERE / "empty.csv").write_bytes(b"")
    (HERE / "no_identifier.csv").write_text("Item,Colour,Weight\n1,red,5\n", encoding="utf-8")
    (HERE / "picture.csv").write_bytes(png_bytes())
    (HERE / "not_a_zip.xlsx").write_bytes(b"Description,CAS\nAcetone,67-64-1\n")

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Manifest"
    sheet.append(["Shipment manifest"])
    sheet.append(["Exported", dt.datetime(2024, 11, 2)])
    sheet.append([])
    sheet.append(["#", "Chemical Name", "CAS Number", "Tariff Code", "Net Mass", "Unit", "Remarks"])
    sheet.append([1, "Benzyl cyanide", "140-29-4", 2926901100, 25.0, "kg", None])
    sheet.append([2, "Nitroethane", "79-24-3", 2904201000, 2.5, "L", "urgent"])
    sheet.append([None, None, None, None, None, None, None])
    sheet.append([3, "Isosafrole", "120-58-1", None, 1000, "g", dt.date(2024, 1, 5)])
    book.create_sheet("Other").append(["Description"])
    book.save(HERE / "manifest.xlsx")


if __name__ == "__main__":
    main()
