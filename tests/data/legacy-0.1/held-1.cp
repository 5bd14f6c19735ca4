legacy.auditledger.example/fixture
429
wNvdLogI64gm153mx70/dPWUPGe4b1FvPVAgcXS5Ka0=
time 2026-12-01T22:33:46Z

— legacy.auditledger.example/fixture hij+uOexE88o/0L0EQgvax4BRN322DkF/hHrdQJfvNYBui3DAZi0ugOu9UwWZFPq4AFDx+93nFsJVBl7DixeVyTS+Q4=
