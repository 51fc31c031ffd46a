"""Identification: text to identifiers (CAS, names in every language, PubChem table, OPSIN)."""
