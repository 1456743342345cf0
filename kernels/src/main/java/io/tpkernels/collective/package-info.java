/**
 * The collectives among the ranks of a group ({@link io.tpkernels.collective.ProcessGroup}): in one JVM, ranks being
 * threads ({@link io.tpkernels.collective.LocalGroup}), or over NCCL, one rank per GPU in one process or across
 * processes and hosts ({@link io.tpkernels.collective.NcclGroup}, {@link io.tpkernels.collective.Rendezvous}).
 *
 * <p>Every rank calls the same collectives in the same order with the same arguments, and every rank sees identical
 * results. A failure, a timeout or a disagreement between ranks is a
 * {@link io.tpkernels.collective.CollectiveException} on every rank, never a hang. The rules are in the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#12-collectives">section 12</a>.
 */
package io.tpkernels.collective;
