"""The EHR import: FHIR R4 patients, encounters and appointments read from files or a FHIR
server, matched to patients and recorded through crm's command handlers (docs/fhir.md)."""
