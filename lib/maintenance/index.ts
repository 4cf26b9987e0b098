/**
 * Maintenance records (failures, repairs, inspections) as rows of the store's `events` table:
 * added one at a time or imported from a CMMS export, read back as the labels of the next model
 * and the ground truth the alarm rules are scored against.
 *
 * @packageDocumentation
 */
export { MAINTENANCE_KINDS, recordProblem, recordKey, recordToEvent, type MaintenanceKind, type MaintenanceRecord } from './record.ts';
export { addMaintenanceRecord, addMaintenanceRecords } from './add-records.ts';
export { listMaintenanceRecords, type MaintenanceFilter, type StoredMaintenanceRecord } from './list-records.ts';
export { importCmmsCsv, CMMS_FIELDS, type CmmsMapping, type CmmsImportOptions, type CmmsImportSummary } from './import-cmms.ts';
