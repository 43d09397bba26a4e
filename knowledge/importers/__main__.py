"""Write the data file of one or all documents from the importer and the recorded corrections.

Usage: python -m knowledge.importers [doc ...]
"""
from __future__ import annotations

import sys

from knowledge.corrections import apply_corrections, load_corrections
from knowledge.datafiles import dump_yaml
from knowledge.importers import DOCUMENTS, parse
from knowledge.paths import DOCUMENTS_DIR


def main(argv: list[str]) -> int:
    for document in argv or DOCUMENTS:
        data = apply_corrections(parse(document), load_corrections(document))
        path = DOCUMENTS_DIR / f"{document}.yml"
        header = (
            f"# Reviewed data of the {document} source document: `python -m knowledge.importers {document}` output\n"
            f"# plus the corrections in ../corrections/{document}.yml. After editing this file by hand, record\n"
            f"# the change with `python -m knowledge corrections {document} --reason '...'`.\n"
        )
        path.write_text(header + dump_yaml(data), encoding="utf-8")
        print(f"{path}: {len(data['items'])} items")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
