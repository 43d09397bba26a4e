"""Write the draft data file of one or all documents: python -m knowledge.importers [doc ...]."""
from __future__ import annotations

import sys

from knowledge.datafiles import DOCUMENTS_DIR, dump_yaml
from knowledge.importers import DOCUMENTS, parse


def main(argv: list[str]) -> int:
    for document in argv or DOCUMENTS:
        data = parse(document)
        path = DOCUMENTS_DIR / f"{document}.yml"
        header = (
            f"# Reviewed data of the {document} source document. Drafted by `python -m knowledge.importers "
            f"{document}`;\n# every deliberate difference from that draft is recorded in ../corrections/{document}.yml.\n"
        )
        path.write_text(header + dump_yaml(data), encoding="utf-8")
        print(f"{path}: {len(data['items'])} items")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
