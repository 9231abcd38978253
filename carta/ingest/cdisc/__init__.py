"""CDISC SDTM and ADaM deliveries: dataset files, define.xml and their mapping to Carta tables."""
