"""test_schemas.py -- proves that every XSD in schema/ accepts the valid and refuses the invalid
example documents of tests/data/ (checked with xmllint, independently of hookbus's own code)."""
import glob
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import SOURCE  # noqa: E402

DATA = os.path.join(SOURCE, "tests", "data")
SCHEMA = os.path.join(SOURCE, "schema")
CASES = {
    "messages": "hook_message.xsd",
    "docs/hook": "hook.xsd",
    "docs/hook_pool": "hook_pool.xsd",
    "docs/hook_execution_record": "hook_execution_record.xsd",
    "docs/hooklog": "hooklog.xsd",
}
# Refused by lib/message.c although the schema alone accepts it (see tests/data/messages/README).
DECODER_ONLY = {"messages/invalid/type_mismatch.xml"}


def xmllint(schema, path):
    return subprocess.run(["xmllint", "--noout", "--nonet", "--schema", os.path.join(SCHEMA, schema), path],
                          capture_output=True, text=True, timeout=60)


class SchemaTest(unittest.TestCase):
    def check(self, sub, schema):
        valid = sorted(glob.glob(os.path.join(DATA, sub, "valid", "*.xml")))
        invalid = sorted(glob.glob(os.path.join(DATA, sub, "invalid", "*.xml")))
        self.assertTrue(valid and invalid, "no example documents under tests/data/" + sub)
        for path in valid:
            r = xmllint(schema, path)
            self.assertEqual(r.returncode, 0, "%s refused by %s: %s" % (path, schema, r.stderr))
        for path in invalid:
            if os.path.relpath(path, DATA) in DECODER_ONLY:
                continue
            r = xmllint(schema, path)
            self.assertNotEqual(r.returncode, 0, "%s accepted by %s" % (path, schema))

    def test_every_schema_against_its_examples(self):
        """Each schema accepts every valid/ example and refuses every invalid/ one."""
        for sub, schema in CASES.items():
            with self.subTest(schema=schema):
                self.check(sub, schema)


if __name__ == "__main__":
    unittest.main(verbosity=2)
